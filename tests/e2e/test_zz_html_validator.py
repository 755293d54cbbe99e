"""Every page saved by `check_page` during this run is valid HTML for the W3C Nu validator.

Runs last (see conftest.py): vnu.jar starts once, over all the saved pages."""

import pytest

from tests.e2e import harness
from tests.e2e.conftest import browser_tests_ran_elsewhere, validate_saved_pages

pytestmark = pytest.mark.e2e


def test_every_checked_page_is_valid_html(server: harness.E2EServer, request: pytest.FixtureRequest) -> None:
    elsewhere = browser_tests_ran_elsewhere(request.session, request.node)
    assert not elsewhere, f"browser tests ran in another process, their pages go unchecked: {elsewhere[:3]}"
    if not harness.SAVED_HTML:
        pytest.skip("no page was checked in this run")
    errors = validate_saved_pages()
    assert not errors, "W3C validator errors:\n" + harness.html_errors_report(errors)

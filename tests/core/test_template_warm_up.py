"""A server process compiles every template before it takes requests (app.web.compile_templates,
run by `reinventons serve`'s processes: app.main.serve_app): after a restart under load, every
request arriving before a page's first had finished compiled the page's templates again."""

import pytest
from fastapi.testclient import TestClient

from app import main, web
from app.settings import Settings


def _cached() -> set[str]:
    assert web.env.cache is not None
    return {key[1] for key in web.env.cache}  # (the loader, the template's name)


def test_a_served_process_has_compiled_every_template_before_its_first_request(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(main.photo_sandbox, "warm_up_detector", lambda: None)  # no detector process here
    assert web.env.cache is not None
    web.env.cache.clear()  # as in a fresh process
    with TestClient(main.create_app(settings, warm_up=True), base_url="http://testserver"):
        assert _cached() == set(web.env.list_templates(filter_func=lambda name: not name.startswith(".")))
        assert {"base.html", "call/detail.html", "idea/detail.html"} <= _cached()


def test_a_process_made_for_a_test_compiles_them_as_its_pages_need_them(settings: Settings) -> None:
    assert web.env.cache is not None
    web.env.cache.clear()
    with TestClient(main.create_app(settings), base_url="http://testserver"):
        assert _cached() == set()

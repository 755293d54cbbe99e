"""The sign-in button's POST is answered by a redirect to the provider, and browsers apply the
Content-Security-Policy's form-action to that redirect (Chromium blocked it while form-action was
only 'self'; the browser journey in tests/e2e/test_account_selfservice_journey.py signs in for real)."""

from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.security import content_security_policy
from tests.support import make_settings


def form_action(csp: str) -> list[str]:
    [directive] = [d.strip() for d in csp.split(";") if d.strip().startswith("form-action ")]
    return directive.split()[1:]


def test_form_action_allows_the_configured_providers_and_nothing_else(tmp_path: Path, database_url: str) -> None:
    providers = [{"key": "csam", "name": "CSAM", "issuer": "https://idp.iamfas.belgium.be/fas/oauth2",
                  "client_id": "c", "client_secret": "s"},
                 {"key": "city", "name": "Ville", "issuer": "https://login.liege.be:8443/realms/citoyens",
                  "client_id": "c", "client_secret": "s"}]
    settings = make_settings(tmp_path / "var", database_url, oidc_providers=providers)
    assert form_action(content_security_policy(settings)) == [
        "'self'", "https://idp.iamfas.belgium.be", "https://login.liege.be:8443"]
    with TestClient(create_app(settings), base_url="http://testserver") as web:
        header = web.get("/account/login").headers["content-security-policy"]
    assert form_action(header) == form_action(content_security_policy(settings))
    plain = make_settings(tmp_path / "var2", database_url)
    assert form_action(content_security_policy(plain)) == ["'self'"]

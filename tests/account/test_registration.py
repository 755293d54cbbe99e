"""Registration, e-mail verification, login and logout, end to end with a real SMTP server."""

from urllib.parse import urlsplit

from sqlmodel import Session, select

from app.account.models import User
from app.account.sessions import SESSION_COOKIE
from app.clock import utcnow
from app.outbox.models import OutboxMessage
from tests.factories import make_user
from tests.support import SmtpSink, WebClient, links_in

PASSWORD = "les chaises de la Batte"


def register(client: WebClient, email: str = "anne@example.org", name: str = "Anne Thiry",
             password: str = PASSWORD) -> None:
    response = client.submit("/account/register", {"email": email, "display_name": name, "password": password})
    assert response.status_code == 200, response.text
    assert email in response.text


def users(session: Session) -> list[User]:
    session.expire_all()
    return list(session.exec(select(User)).all())


def test_register_verify_login_logout_and_the_old_cookie_dies(mail_client: WebClient, smtp: SmtpSink,
                                                               session: Session) -> None:
    register(mail_client)
    assert mail_client.run_worker() == 1
    message = smtp.last_to("anne@example.org")
    assert "Confirmez votre adresse" in message["Subject"]
    [link] = [u for u in links_in(message) if "/account/verify" in u]

    # Opening the link shows a confirmation button; it does not verify by itself (no change on GET).
    path = urlsplit(link).path + "?" + urlsplit(link).query
    page = mail_client.get(path)
    assert page.status_code == 200
    assert users(session)[0].email_verified_at is None
    token = urlsplit(link).query.split("token=")[1]
    confirmed = mail_client.submit("/account/verify", {"token": token})
    assert confirmed.status_code == 303
    assert users(session)[0].email_verified_at is not None
    # Single use.
    assert mail_client.get(path).status_code == 410
    assert mail_client.submit("/account/verify", {"token": token}).status_code == 410

    login = mail_client.submit("/account/login", {"email": "Anne@Example.org", "password": PASSWORD})
    assert login.status_code == 303
    cookie = mail_client.cookies[SESSION_COOKIE]
    assert "Anne Thiry" in mail_client.get("/account").text

    assert mail_client.submit("/account/logout").status_code == 303
    assert mail_client.get("/account", follow_redirects=False).status_code == 303

    # Someone who copied the cookie before logout gets nothing either.
    thief = WebClient(mail_client.app, base_url="http://testserver")
    thief.cookies.set(SESSION_COOKIE, cookie)
    response = thief.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login")


def test_session_cookie_is_httponly_lax_and_rotates_at_login(client: WebClient, session: Session) -> None:
    make_user(session, email="marc@example.org")
    session.commit()
    first = client.submit("/account/login", {"email": "marc@example.org", "password": "un mot de passe solide"})
    set_cookie = first.headers["set-cookie"].lower()
    assert "rv_session=" in set_cookie and "httponly" in set_cookie and "samesite=lax" in set_cookie
    assert "secure" not in set_cookie.split("rv_session=")[1].split(",")[0]
    old = client.cookies[SESSION_COOKIE]
    client.submit("/account/login", {"email": "marc@example.org", "password": "un mot de passe solide"})
    new = client.cookies[SESSION_COOKIE]
    assert new != old
    stale = WebClient(client.app, base_url="http://testserver")
    stale.cookies.set(SESSION_COOKIE, old)
    assert stale.get("/account", follow_redirects=False).status_code == 303


def test_registration_errors_are_explained_in_french_and_nothing_is_written(client: WebClient,
                                                                            session: Session) -> None:
    make_user(session, email="taken@example.org")
    session.commit()
    cases = {
        ("pas-une-adresse", "Anne", PASSWORD): "adresse e-mail valable",
        ("new@example.org", "Anne", "court"): "au moins 10 caractères",
        ("new@example.org", "Anne", "azertyuiop"): "trop courant",
        ("taken@example.org", "Anne", PASSWORD): "existe déjà",
        ("new@example.org", "A", PASSWORD): "entre 2 et 80 caractères",
    }
    for (email, name, password), expected in cases.items():
        response = client.submit("/account/register", {"email": email, "display_name": name, "password": password})
        assert response.status_code == 422, (email, password)
        assert expected in response.text, (email, password, expected)
        assert 'aria-invalid="true"' in response.text
        # What the person typed is kept, except the password.
        assert f'value="{email}"' in response.text
        assert password not in response.text or password == email
    assert [u.email for u in users(session)] == ["taken@example.org"]
    assert session.exec(select(OutboxMessage)).all() == []


def test_registration_is_rate_limited_per_client_address(client: WebClient) -> None:
    limit = client.settings.registrations_per_hour
    for i in range(limit):
        register(client, email=f"p{i}@example.org", name=f"Personne {i}")
    response = client.submit("/account/register", {"email": "one-more@example.org", "display_name": "Encore",
                                                   "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "Trop de comptes" in response.text


def test_a_banned_person_cannot_log_in(client: WebClient, session: Session) -> None:
    user = make_user(session, email="banned@example.org")
    user.banned_at = utcnow()
    session.add(user)
    session.commit()
    response = client.submit("/account/login", {"email": "banned@example.org", "password": "un mot de passe solide"})
    assert response.status_code == 422
    assert "suspendu" in response.text
    assert SESSION_COOKIE not in client.cookies

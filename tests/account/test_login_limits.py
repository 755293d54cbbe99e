"""Login rate limiting, open redirects and password reset."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.account.models import EmailToken, User
from app.account.passwords import verify_password
from app.account.sessions import SESSION_COOKIE
from app.clock import utcnow
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.support import SmtpSink, WebClient, links_in


def test_five_wrong_passwords_then_429_with_retry_after(client: WebClient, session: Session) -> None:
    make_user(session, email="lea@example.org")
    make_user(session, email="other@example.org")
    session.commit()
    for _ in range(5):
        response = client.submit("/account/login", {"email": "lea@example.org", "password": "wrong password!"})
        assert response.status_code == 422
        assert "incorrect" in response.text
    locked = client.submit("/account/login", {"email": "lea@example.org", "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 60
    assert "Trop de tentatives" in locked.text
    assert SESSION_COOKIE not in client.cookies
    # Only that e-mail is locked.
    other = client.submit("/account/login", {"email": "other@example.org", "password": DEFAULT_PASSWORD})
    assert other.status_code == 303


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "https://evil.example", "/\\evil.example", "javascript:alert(1)", "http:/evil.example",
     "/%0d%0aSet-Cookie:x=1", "\\\\evil.example", " //evil.example"],
)
def test_login_next_never_leaves_the_site(client: WebClient, session: Session, target: str) -> None:
    make_user(session, email="nina@example.org")
    session.commit()
    response = client.submit("/account/login", {"email": "nina@example.org", "password": DEFAULT_PASSWORD,
                                                "next": target})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == "/" or (location.startswith("/") and not location.startswith(("//", "/\\")))
    assert "evil.example" not in location or location == "/"


def test_login_next_keeps_a_local_path(client: WebClient, session: Session) -> None:
    make_user(session, email="nina@example.org")
    session.commit()
    response = client.submit("/account/login", {"email": "nina@example.org", "password": DEFAULT_PASSWORD,
                                                "next": "/account?tab=1"})
    assert response.headers["location"] == "/account?tab=1"


def test_protected_page_sends_anonymous_visitors_to_login_and_back(client: WebClient) -> None:
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=/account"


def _reset_link(smtp: SmtpSink, email: str) -> str:
    [link] = [u for u in links_in(smtp.last_to(email)) if "/account/password/reset" in u]
    return link.split("token=")[1]


def test_password_reset_is_single_use_and_revokes_sessions(mail_client: WebClient, smtp: SmtpSink,
                                                           session: Session) -> None:
    user = make_user(session, email="paul@example.org")
    session.commit()
    other_device = WebClient(mail_client.app, base_url="http://testserver").login_as(user)

    known = mail_client.submit("/account/password/forgot", {"email": "paul@example.org"})
    unknown = mail_client.submit("/account/password/forgot", {"email": "nobody@example.org"})
    # The same answer whether the address exists or not.
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("paul@example.org", "X") == unknown.text.replace("nobody@example.org", "X")
    mail_client.run_worker()
    assert smtp.to("nobody@example.org") == []
    token = _reset_link(smtp, "paul@example.org")

    assert mail_client.get(f"/account/password/reset?token={token}").status_code == 200
    weak = mail_client.submit("/account/password/reset", {"token": token, "password": "court"})
    assert weak.status_code == 422
    done = mail_client.submit("/account/password/reset", {"token": token, "password": "une nouvelle phrase secrète"})
    assert done.status_code == 303
    again = mail_client.submit("/account/password/reset", {"token": token, "password": "encore une autre phrase"})
    assert again.status_code == 422
    assert "plus valable" in again.text

    assert other_device.get("/account", follow_redirects=False).status_code == 303
    ok = mail_client.submit("/account/login", {"email": "paul@example.org", "password": "une nouvelle phrase secrète"})
    assert ok.status_code == 303
    old = mail_client.submit("/account/login", {"email": "paul@example.org", "password": DEFAULT_PASSWORD})
    assert old.status_code == 422


def test_password_reset_link_expires_within_an_hour(mail_client: WebClient, smtp: SmtpSink,
                                                   session: Session) -> None:
    make_user(session, email="zoe@example.org")
    session.commit()
    mail_client.submit("/account/password/forgot", {"email": "zoe@example.org"})
    mail_client.run_worker()
    token = _reset_link(smtp, "zoe@example.org")
    row = session.exec(select(EmailToken)).one()
    assert row.expires_at - row.created_at <= timedelta(hours=1)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert mail_client.get(f"/account/password/reset?token={token}").status_code == 410
    response = mail_client.submit("/account/password/reset",
                                  {"token": token, "password": "une nouvelle phrase secrète"})
    assert response.status_code == 422
    session.expire_all()
    user = session.exec(select(User).where(User.email == "zoe@example.org")).one()
    assert verify_password(user.password_hash, DEFAULT_PASSWORD)

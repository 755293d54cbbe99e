"""A person's own account (issue 13): changing the password and the e-mail address, and the list
of their sessions. Through the pages, the real worker and a real SMTP server where e-mail matters."""

import json
import logging
from datetime import timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message

import pytest
from sqlmodel import Session, select

from app import clock
from app.account import passwords
from app.account.models import EmailToken, User, UserSession
from app.account.sessions import SESSION_COOKIE
from app.moderation.models import AuditEntry
from app.outbox.models import OutboxMessage
from tests.factories import make_call, make_idea, make_user
from tests.support import SmtpSink, WebClient, body_of, links_in

PASSWORD = "les chaises de la Batte"
NEW_PASSWORD = "un vélo bleu sur la Meuse"
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:132.0) Gecko/132.0 Firefox/132.0"
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")


def browser(client: WebClient, user_agent: str = "") -> WebClient:
    """Another browser on the same site, with its own cookies."""
    other = WebClient(client.app, base_url="http://testserver")
    if user_agent:
        other.headers["user-agent"] = user_agent
    return other


def login(web: WebClient, email: str, password: str = PASSWORD) -> WebClient:
    """Log in through the form, as a browser does (the session notes its User-Agent)."""
    response = web.submit("/account/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    return web


def logged_in(web: WebClient) -> bool:
    return web.get("/account", follow_redirects=False).status_code == 200


def reload(session: Session, user: User) -> User:
    session.expire_all()
    found = session.get(User, user.id)
    assert found is not None
    return found


def subject_of(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def outbox_text(session: Session) -> str:
    session.expire_all()
    return json.dumps([m.payload for m in session.exec(select(OutboxMessage)).all()], ensure_ascii=False)


# Password ---------------------------------------------------------------------------------------

def test_changing_my_password_ends_my_other_sessions_and_tells_me(client: WebClient, session: Session) -> None:
    anne = make_user(session, email="anne@example.org", display_name="Anne Thiry", password=PASSWORD)
    login(client, "anne@example.org")
    phone = login(browser(client, FIREFOX_ANDROID), "anne@example.org")
    assert 'href="/account/password"' in client.get("/account").text
    assert client.get("/account/password").status_code == 200

    response = client.submit("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                                    "end_other_sessions": "1"})
    assert response.status_code == 303
    assert "Votre mot de passe est modifié" in client.get("/account").text
    assert logged_in(client) and not logged_in(phone)
    assert passwords.verify_password(reload(session, anne).password_hash, NEW_PASSWORD)
    # A notice to the address, without a password in it; and the audit log.
    [notice] = [m for m in session.exec(select(OutboxMessage)).all() if m.payload.get("to") == "anne@example.org"]
    assert notice.payload["subject"] == "Votre mot de passe a été modifié"
    assert NEW_PASSWORD not in json.dumps(notice.payload)
    [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "password_changed")).all()
    assert entry.target_id == anne.id and entry.actor_id == anne.id
    assert login(browser(client), "anne@example.org", NEW_PASSWORD)


def test_without_the_option_my_other_sessions_stay(client: WebClient, session: Session) -> None:
    make_user(session, email="anne@example.org", password=PASSWORD)
    login(client, "anne@example.org")
    phone = login(browser(client), "anne@example.org")
    response = client.submit("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 303
    assert logged_in(client) and logged_in(phone)


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"current_password": "pas le bon mot de passe", "new_password": NEW_PASSWORD}, "current_password",
     "Votre mot de passe actuel n’est pas correct."),
    ({"current_password": PASSWORD, "new_password": "court"}, "new_password",
     "Votre mot de passe doit compter au moins 10 caractères."),
    ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password",
     "Votre nouveau mot de passe doit être différent de l’actuel."),
])
def test_a_refused_password_change_changes_nothing(client: WebClient, session: Session, form: dict[str, str],
                                                   field: str, message: str) -> None:
    anne = make_user(session, email="anne@example.org", password=PASSWORD)
    before = anne.password_hash
    login(client, "anne@example.org")
    phone = login(browser(client), "anne@example.org")
    response = client.submit("/account/password", {**form, "end_other_sessions": "1"})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="f-{field}-error"' in response.text
    assert reload(session, anne).password_hash == before
    assert logged_in(phone)
    assert "mot de passe" not in outbox_text(session)
    # Without the form's token, nothing either.
    assert client.post("/account/password", data={"current_password": PASSWORD,
                                                  "new_password": NEW_PASSWORD}).status_code == 403
    assert reload(session, anne).password_hash == before


def test_guessing_the_current_password_is_limited_like_a_login(client: WebClient, session: Session) -> None:
    anne = make_user(session, email="anne@example.org", password=PASSWORD)
    client.login_as(anne)
    limit = client.settings.login_attempts_per_minute
    for _ in range(limit):
        wrong = client.submit("/account/password", {"current_password": "devinette numéro x",
                                                    "new_password": NEW_PASSWORD})
        assert wrong.status_code == 422
    response = client.submit("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in response.text
    assert passwords.verify_password(reload(session, anne).password_hash, PASSWORD)


# E-mail address ---------------------------------------------------------------------------------

def test_changing_my_address_takes_a_link_sent_to_the_new_one(mail_client: WebClient, smtp: SmtpSink,
                                                               session: Session,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    anne = make_user(session, email="anne@example.org", display_name="Anne Thiry", password=PASSWORD)
    mail_client.login_as(anne)
    assert mail_client.get("/account/email").status_code == 200
    response = mail_client.submit("/account/email", {"new_email": " Anne.Nouvelle@Example.org ",
                                                     "current_password": PASSWORD})
    assert response.status_code == 303
    assert "anne.nouvelle@example.org" in mail_client.get("/account").text  # "we sent a link to ..."
    assert reload(session, anne).email == "anne@example.org"  # nothing changes yet
    assert "token=" not in outbox_text(session)  # the link is made only when the e-mail is sent

    mail_client.run_worker()
    [message] = smtp.to("anne.nouvelle@example.org")
    assert subject_of(message) == "Confirmez votre nouvelle adresse e-mail"
    [link] = [u for u in links_in(message) if "/account/email/confirm" in u]
    token = link.split("token=")[1]
    # The token is stored only hashed; the sent e-mail's text is gone from the outbox; no log has it.
    session.expire_all()
    [row] = session.exec(select(EmailToken).where(EmailToken.purpose == "email_change")).all()
    assert row.new_email == "anne.nouvelle@example.org" and row.token_hash != token
    assert token not in outbox_text(session)
    assert token not in json.dumps([r.model_dump(mode="json") for r in session.exec(select(EmailToken)).all()])

    # Opening the link (a mail scanner would) changes nothing; the button does.
    path = link.removeprefix("http://testserver")
    page = mail_client.get(path)
    assert page.status_code == 200 and "anne.nouvelle@example.org" in page.text
    assert reload(session, anne).email == "anne@example.org"
    assert mail_client.submit("/account/email/confirm", {"token": token}).status_code == 303
    changed = reload(session, anne)
    assert changed.email == "anne.nouvelle@example.org" and changed.email_verified_at is not None
    assert "anne.nouvelle@example.org" in mail_client.get("/account").text
    [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "email_changed")).all()
    assert entry.target_id == anne.id and "anne" not in json.dumps(entry.details)

    # The old address is told, with the new one masked.
    mail_client.run_worker()
    [notice] = smtp.to("anne@example.org")
    assert subject_of(notice) == "Votre adresse e-mail a été modifiée"
    assert "an***@example.org" in body_of(notice) and "anne.nouvelle@" not in body_of(notice)
    # The link works once; the new address logs in, the old one does not.
    assert mail_client.get(path).status_code == 410
    assert mail_client.submit("/account/email/confirm", {"token": token}).status_code == 410
    assert login(browser(mail_client), "anne.nouvelle@example.org")
    assert browser(mail_client).submit("/account/login", {"email": "anne@example.org",
                                                          "password": PASSWORD}).status_code == 422
    # The platform's logs (the test client's own httpx log of its requests aside).
    server_logs = [r for r in caplog.records if not r.name.startswith("httpx")]
    assert any(r.name == "app.access" for r in server_logs)
    assert not any(token in r.getMessage() for r in server_logs), {r.name for r in server_logs}


def test_an_address_that_belongs_to_someone_else_is_refused_as_registration_says(
        client: WebClient, session: Session) -> None:
    anne = make_user(session, email="anne@example.org", password=PASSWORD)
    make_user(session, email="bob@example.org")
    client.login_as(anne)
    response = client.submit("/account/email", {"new_email": "BOB@example.org", "current_password": PASSWORD})
    assert response.status_code == 422
    assert "Un compte existe déjà avec cette adresse e-mail." in response.text
    registration = browser(client).submit("/account/register", {"email": "bob@example.org", "display_name": "Bob",
                                                                 "password": NEW_PASSWORD})
    assert "Un compte existe déjà avec cette adresse e-mail." in registration.text  # the same words, no more
    assert not session.exec(select(EmailToken).where(EmailToken.purpose == "email_change")).all()
    assert "bob@example.org" not in outbox_text(session)


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"new_email": "nouvelle@example.org", "current_password": "pas le bon"}, "current_password",
     "Votre mot de passe actuel n’est pas correct."),
    ({"new_email": "pas-une-adresse", "current_password": PASSWORD}, "new_email",
     "Veuillez indiquer une adresse e-mail valable."),
    ({"new_email": "anne@example.org", "current_password": PASSWORD}, "new_email",
     "C’est déjà votre adresse e-mail."),
])
def test_a_refused_change_of_address_sends_nothing(client: WebClient, session: Session, form: dict[str, str],
                                                   field: str, message: str) -> None:
    anne = make_user(session, email="anne@example.org", password=PASSWORD)
    client.login_as(anne)
    response = client.submit("/account/email", form)
    assert response.status_code == 422
    assert message in response.text and f'id="f-{field}-error"' in response.text
    assert reload(session, anne).email == "anne@example.org"
    assert not session.exec(select(EmailToken).where(EmailToken.purpose == "email_change")).all()
    assert outbox_text(session) == "[]"


def request_change(web: WebClient, session: Session, address: str) -> str:
    """Ask for a change of address, let the worker send the e-mail (to a file: no SMTP server
    here) and return the token of its link."""
    assert web.submit("/account/email", {"new_email": address, "current_password": PASSWORD}).status_code == 303
    web.run_worker()
    sent = [message_from_bytes(p.read_bytes()) for p in sorted(web.settings.mail_dir.glob("*.eml"))]
    body = body_of([m for m in sent if m["To"] == address][-1])
    return str(body.split("token=")[1].split()[0])


def test_an_address_taken_meanwhile_an_expired_or_replaced_link_change_nothing(
        client: WebClient, session: Session) -> None:
    anne = make_user(session, email="anne@example.org", password=PASSWORD)
    client.login_as(anne)
    taken = request_change(client, session, "prise@example.org")
    make_user(session, email="prise@example.org")  # someone registers it before Anne confirms
    response = client.submit("/account/email/confirm", {"token": taken})
    assert response.status_code == 422
    assert "Un compte existe déjà avec cette adresse e-mail." in response.text
    assert reload(session, anne).email == "anne@example.org"

    first = request_change(client, session, "un@example.org")
    second = request_change(client, session, "deux@example.org")
    assert client.submit("/account/email/confirm", {"token": first}).status_code == 410  # replaced
    with clock.travel(timedelta(hours=25)):
        assert client.get("/account/email/confirm", params={"token": second}).status_code == 410
        assert client.submit("/account/email/confirm", {"token": second}).status_code == 410
    assert reload(session, anne).email == "anne@example.org"
    assert client.submit("/account/email/confirm", {"token": "inventé"}).status_code == 410


def test_changes_of_address_are_limited(client: WebClient, session: Session) -> None:
    anne = make_user(session, email="anne@example.org", password=PASSWORD)
    client.login_as(anne)
    for n in range(5):
        request_change(client, session, f"essai{n}@example.org")
    response = client.submit("/account/email", {"new_email": "essai9@example.org", "current_password": PASSWORD})
    assert response.status_code == 429
    assert "trop de changements d’adresse" in response.text
    assert "essai9@example.org" not in outbox_text(session)


def test_an_account_without_a_password_is_told_how_to_change_its_address(client: WebClient,
                                                                         session: Session) -> None:
    anne = make_user(session, email="anne@example.org")
    anne.password_hash = None
    session.add(anne)
    session.flush()
    client.login_as(anne)
    assert 'href="/account/password"' not in client.get("/account").text
    response = client.submit("/account/email", {"new_email": "nouvelle@example.org", "current_password": ""})
    assert response.status_code == 422
    assert "Votre compte n’a pas de mot de passe" in response.text
    assert outbox_text(session) == "[]"


# Sessions ---------------------------------------------------------------------------------------

def test_my_sessions_are_listed_and_i_end_them(client: WebClient, session: Session) -> None:
    make_user(session, email="anne@example.org", password=PASSWORD)
    laptop = login(browser(client, SAFARI_IPHONE), "anne@example.org")
    phone = login(browser(client, FIREFOX_ANDROID), "anne@example.org")
    tablet = login(browser(client), "anne@example.org")

    page = laptop.get("/account/sessions")
    assert page.status_code == 200
    assert "Safari · iPhone" in page.text and "Firefox · Android" in page.text
    assert page.text.count("Cette session") == 1
    assert "Active à l’instant" in page.text  # approximate
    assert "Mozilla/5.0" not in page.text  # the summary, never the header

    # End the phone's session from the laptop.
    session.expire_all()
    phone_row = next(r for r in session.exec(select(UserSession)).all() if "Android" in r.user_agent)
    assert laptop.submit(f"/account/sessions/{phone_row.id}/end").status_code == 303
    assert not logged_in(phone) and logged_in(laptop) and logged_in(tablet)
    # End all the others: the tablet goes, the laptop stays.
    assert laptop.submit("/account/sessions/end-others").status_code == 303
    assert not logged_in(tablet) and logged_in(laptop)
    assert laptop.get("/account/sessions").text.count("Cette session") == 1
    # End this one: logged out.
    session.expire_all()
    [own] = session.exec(select(UserSession)).all()
    response = laptop.submit(f"/account/sessions/{own.id}/end")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert not logged_in(laptop)


def test_nobody_ends_another_persons_session(client: WebClient, session: Session) -> None:
    make_user(session, email="anne@example.org", password=PASSWORD)
    make_user(session, email="bob@example.org", password=PASSWORD)
    anne = login(browser(client, FIREFOX_ANDROID), "anne@example.org")
    bob = login(browser(client), "bob@example.org")
    session.expire_all()
    anne_row = next(r for r in session.exec(select(UserSession)).all() if "Android" in r.user_agent)

    assert "Firefox · Android" not in bob.get("/account/sessions").text
    assert bob.submit(f"/account/sessions/{anne_row.id}/end").status_code == 403
    assert bob.submit("/account/sessions/end-others").status_code == 303  # ends only Bob's others
    assert bob.submit("/account/sessions/999999/end").status_code == 404
    assert logged_in(anne) and logged_in(bob)
    # Without the token, and for a visitor: nothing.
    assert anne.post(f"/account/sessions/{anne_row.id}/end").status_code == 403
    visitor = browser(client)
    response = visitor.submit(f"/account/sessions/{anne_row.id}/end")
    assert response.status_code == 303 and response.headers["location"].startswith("/account/login")
    assert logged_in(anne)
    assert visitor.get("/account/sessions", follow_redirects=False).status_code == 303


def test_a_session_notes_its_activity_every_few_minutes(client: WebClient, session: Session) -> None:
    make_user(session, email="anne@example.org", password=PASSWORD)
    login(client, "anne@example.org")
    session.expire_all()
    [row] = session.exec(select(UserSession)).all()
    first = row.last_seen_at
    with clock.travel(timedelta(hours=3)):
        page = browser(client)
        page.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
        assert "Active il y a 3 heures" in page.get("/account/sessions").text
        # A request that writes notes the activity.
        assert page.submit("/account", {"display_name": "Anne", "language": "fr"}).status_code == 303
        session.expire_all()
        assert session.exec(select(UserSession)).one().last_seen_at > first
        assert "Active à l’instant" in page.get("/account/sessions").text


def test_a_link_replaced_before_it_was_sent_is_not_sent(mail_client: WebClient, smtp: SmtpSink,
                                                        session: Session) -> None:
    anne = make_user(session, email="anne@example.org", password=PASSWORD)
    mail_client.login_as(anne)
    for address in ("faute@example.org", "bonne@example.org"):
        assert mail_client.submit("/account/email", {"new_email": address, "current_password": PASSWORD}
                                  ).status_code == 303
    mail_client.run_worker()
    assert smtp.to("faute@example.org") == []
    [message] = smtp.to("bonne@example.org")
    token = body_of(message).split("token=")[1].split()[0]
    assert mail_client.submit("/account/email/confirm", {"token": token}).status_code == 303
    assert reload(session, anne).email == "bonne@example.org"
    session.expire_all()
    reasons = [m.last_error for m in session.exec(select(OutboxMessage)).all() if m.status == "cancelled"]
    assert reasons == ["the change of address was replaced, confirmed or has expired"]


def test_changing_my_display_name(client: WebClient, session: Session) -> None:
    anne = make_user(session, email="anne@example.org", display_name="Anne Thiry", password=PASSWORD)
    idea = make_idea(session, make_call(session, phase="voting"), anne, title="Des bancs place du Marché")
    session.commit()
    client.login_as(anne)
    refused = client.submit("/account", {"display_name": " A ", "language": "fr"})
    assert refused.status_code == 422 and "Votre nom doit" in refused.text
    assert reload(session, anne).display_name == "Anne Thiry"
    assert client.post("/account", data={"display_name": "Anne T.", "language": "fr"}).status_code == 403
    assert client.submit("/account", {"display_name": "  Anne   T. ", "language": "fr"}).status_code == 303
    assert reload(session, anne).display_name == "Anne T."
    page = client.get(f"/ideas/{idea.id}").text
    assert "Anne T." in page and "Anne Thiry" not in page

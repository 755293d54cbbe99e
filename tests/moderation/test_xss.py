"""Script in moderator notes, rejection reasons, answers and jury notes stays inert: in the
queue, the audit log, the moderation pages, the idea page and the e-mails."""

from html.parser import HTMLParser

from sqlmodel import Session

from app.account.models import Role
from app.follow import service as follow_service
from tests.factories import make_idea, make_user
from tests.moderation.helpers import world
from tests.support import SmtpSink, WebClient, body_of

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>"><svg onload=alert(2)>'
class ActiveContent(HTMLParser):
    """Collects what a browser would run: inline scripts, on* handlers, javascript: URLs, and
    the payload's own elements."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            self.found.append("inline script")
        if tag in ("img", "svg") and (values.get("src") == "x" or "onload" in values):
            self.found.append(f"injected <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}")
            if name in ("href", "src") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


def assert_inert(html: str) -> None:
    parser = ActiveContent()
    parser.feed(html)
    assert parser.found == []


def test_payloads_are_inert_everywhere(mail_client: WebClient, smtp: SmtpSink, session: Session) -> None:
    client = mail_client
    w = world(session, phase="review", status="published")
    follower = make_user(session)
    follow_service.follow(session, idea_id=w.idea.id, user_id=follower.id)
    pending = make_idea(session, w.call, w.author, status="submitted", title=f"Titre {PAYLOAD}"[:120])
    rejected = make_idea(session, w.call, w.author, status="submitted")
    session.commit()
    client.login_as(w.moderator)

    assert client.submit(f"/moderation/ideas/{pending.id}/request-changes", {"message": PAYLOAD}).status_code == 303
    assert client.submit(f"/moderation/ideas/{rejected.id}/reject",
                         {"reason_template": "charter", "reason": PAYLOAD}).status_code == 303
    assert client.submit(f"/moderation/ideas/{w.idea.id}/answer",
                         {"answer_status": "accepted", "answer_md": f"Réponse {PAYLOAD} [lien](javascript:alert(3))"}
                         ).status_code == 303
    assert client.submit(f"/moderation/ideas/{w.idea.id}/selection",
                         {"shortlisted": "1", "jury_note": PAYLOAD}).status_code == 303

    pages = [
        client.get("/moderation"),
        client.get("/moderation", params={"tab": "answers"}),
        client.get(f"/moderation/ideas/{pending.id}"),
        client.get(f"/moderation/ideas/{rejected.id}"),
        client.get(f"/moderation/ideas/{w.idea.id}"),
        client.get(f"/moderation/calls/{w.call.id}/review"),
        client.get(f"/moderation/users/{w.author.id}"),
    ]
    admin = WebClient(client.app, base_url="http://testserver").login_as(w.admin)
    pages.append(admin.get("/admin/audit"))
    public = WebClient(client.app, base_url="http://testserver")
    pages.append(public.get(f"/ideas/{w.idea.id}"))
    author = WebClient(client.app, base_url="http://testserver").login_as(w.author)
    pages += [author.get(f"/ideas/{rejected.id}"), author.get(f"/ideas/{pending.id}")]
    for page in pages:
        assert page.status_code == 200, page.url
        assert_inert(page.text)
    # The text is there, escaped, where people read it.
    assert "&lt;script&gt;" in pages[7].text  # audit log
    assert "&lt;script&gt;" in pages[8].text  # the answer on the public idea page
    assert "&lt;script&gt;" in pages[9].text  # the rejection reason in the idea's history

    client.run_worker()
    delivered = smtp.to(w.author.email) + smtp.to(follower.email)
    assert len(delivered) >= 4
    for message in delivered:
        # A text part, and an HTML alternative in which the payloads are escaped text.
        assert message.get_content_type() == "multipart/alternative"
        [html_part] = [p for p in message.walk() if p.get_content_type() == "text/html"]
        html_payload = html_part.get_payload(decode=True)
        assert isinstance(html_payload, bytes)
        assert_inert(html_payload.decode("utf-8"))
    notes = [body_of(m) for m in smtp.to(w.author.email)]
    assert any("alert(" in body for body in notes)  # the moderator's words did reach the author
    assert w.author.role == Role.citizen

"""Content with long unbroken words on every kind of page (issue 10, defect 11): a German
compound, a pasted address and `AAAA…`, in titles, excerpts, bodies, comments, names, themes,
districts, notes, reasons, reports and notifications. The browser tests' server is filled with it
next to the demo, so the crawl and `test_long_words.py` check the phone layout against it."""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from app.account.models import Role, User
from app.call.models import Call
from app.clock import utcnow
from app.comment.models import Comment
from app.idea.models import Idea, IdeaStatusChange
from app.moderation.models import AuditEntry
from app.notify.models import Notification
from app.report.models import Report
from app.richtext import render_markdown
from tests.factories import make_call, make_category, make_district, make_idea, make_user

COMPOUND = "Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichenherstellerinnung"
ADDRESS = "https://www.youtube.com/watch?v=_2_-21bdGe4&list=PLxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789_long"
AAAA = "A" * 110
LONG_TITLE = f"{COMPOUND} {AAAA[:40]}"  # 120 characters at most
LONG_BODY = f"{COMPOUND} {ADDRESS}\n\n{AAAA}\n\n- {COMPOUND}{COMPOUND}\n\n`{AAAA}`"
LONG_NAME = f"Zoé {COMPOUND}"[:80]
CALL_SLUG = "appel-mots-longs"
CITIZEN_EMAIL = "mots-longs@example.org"


@dataclass
class LongWords:
    call_slug: str
    idea_id: int  # published, answered, commented, with a long history note
    pending_id: int  # waiting in the moderation queue
    author_id: int  # LONG_NAME, who can log in (CITIZEN_EMAIL, the factories' password)


def seed_long_words(session: Session) -> LongWords:
    """Adds the long-word content once (committing); returns where it is."""
    existing = session.exec(select(Call).where(Call.slug == CALL_SLUG)).first()
    if existing is not None:
        return find_long_words(session)
    moderator = session.exec(select(User).where(User.role == Role.moderator)).first()
    admin = session.exec(select(User).where(User.role == Role.admin)).first()
    reader = session.exec(select(User).where(User.email == "citoyenne@demo.reinventons.be")).first()
    author = make_user(session, email=CITIZEN_EMAIL, display_name=LONG_NAME)
    author.created_at = utcnow() - timedelta(days=90)
    call = make_call(session, slug=CALL_SLUG, title=f"{COMPOUND} {AAAA[:60]}", phase="voting", premoderation=True,
                     summary=f"{COMPOUND} {ADDRESS}", description_md=LONG_BODY,
                     description_html=render_markdown(LONG_BODY))
    theme = make_category(session, call, name=f"{COMPOUND}{AAAA}"[:120])
    district = make_district(session, name=f"{COMPOUND}{COMPOUND}"[:120])
    idea = make_idea(session, call, author, title=LONG_TITLE, body=LONG_BODY, category=theme, district=district,
                     answer_status="accepted", answer_html=render_markdown(LONG_BODY), answered_at=utcnow())
    pending = make_idea(session, call, author, title=f"{AAAA[:70]} {COMPOUND}"[:120], body=LONG_BODY,
                        status="submitted", category=theme, district=district)
    assert idea.id is not None and pending.id is not None and author.id is not None
    staff = moderator or admin or author
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=author.id, to_status="draft"))
    session.add(IdeaStatusChange(idea_id=idea.id, actor_id=staff.id, from_status="submitted",
                                 to_status="published", note=f"{COMPOUND} {ADDRESS} {AAAA}"))
    session.add(IdeaStatusChange(idea_id=pending.id, actor_id=author.id, to_status="draft"))
    comment = Comment(idea_id=idea.id, author_id=author.id, body_md=LONG_BODY, body_html=render_markdown(LONG_BODY))
    session.add(comment)
    session.flush()
    assert comment.id is not None
    reply = Comment(idea_id=idea.id, author_id=author.id, parent_id=comment.id, reply_to_id=comment.id,
                    body_md=AAAA, body_html=render_markdown(AAAA))
    session.add(reply)
    idea.comment_count = 2
    session.add(idea)
    for target_type, target_id in (("idea", idea.id), ("comment", comment.id)):
        session.add(Report(target_type=target_type, target_id=target_id, idea_id=idea.id, reporter_id=staff.id,
                           reason="other", details=f"{COMPOUND} {ADDRESS} {AAAA}"))
        session.add(AuditEntry(actor_id=staff.id, action="hide" if target_type == "comment" else "approve",
                               target_type=target_type, target_id=target_id, reason=f"{COMPOUND} {ADDRESS} {AAAA}",
                               from_status="submitted", to_status="published"))
    for person in (author, reader):
        if person is not None and person.id is not None:
            session.add(Notification(user_id=person.id, kind="status", idea_id=idea.id, actor_name=LONG_NAME,
                                     subject=LONG_TITLE, detail=f"{COMPOUND} {AAAA}"[:200],
                                     link=f"/ideas/{idea.id}"))
            session.add(Notification(user_id=person.id, kind="comment", idea_id=idea.id, comment_id=comment.id,
                                     actor_name=LONG_NAME, subject=LONG_TITLE, link=f"/ideas/{idea.id}"))
    session.commit()
    return LongWords(CALL_SLUG, idea.id, pending.id, author.id)


def find_long_words(session: Session) -> LongWords:
    call = session.exec(select(Call).where(Call.slug == CALL_SLUG)).one()
    ideas = session.exec(select(Idea).where(Idea.call_id == call.id).order_by(Idea.id)).all()  # type: ignore[arg-type]
    author = session.exec(select(User).where(User.email == CITIZEN_EMAIL)).one()
    published = next(i for i in ideas if i.status == "published")
    pending = next(i for i in ideas if i.status == "submitted")
    assert published.id is not None and pending.id is not None and author.id is not None
    return LongWords(CALL_SLUG, published.id, pending.id, author.id)

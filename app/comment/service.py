"""Comments: threads of two levels under an idea, open during the phases the call allows.

A reply to a reply joins the same thread (its `parent_id` is the thread's top comment) and
remembers whom it answered (`reply_to_id`), so threads stay readable on a phone.
"""

from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import contentlang, posting_policy
from app.account.models import User
from app.call.models import Call
from app.call.phases import accepts_comments
from app.clock import utcnow
from app.comment.models import MAX_LENGTH, Comment
from app.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus
from app.locks import lock_user
from app.notify import service as notify
from app.richtext import render_markdown
from app.settings import LANGUAGES, Settings

COMMENTS_CLOSED = N_("Comments are closed for this call.")


@dataclass
class CommentView:
    comment: Comment
    author_name: str
    reply_to_name: str = ""
    replies: list["CommentView"] = field(default_factory=list)


def _clean_body(body: str) -> str:
    text = (body or "").strip()
    if len(text) < 2:
        raise ValidationFailed({"body": N_("Please write your comment (at least 2 characters).")})
    if len(text) > MAX_LENGTH:
        raise ValidationFailed({"body": N_("A comment can have at most 5000 characters.")})
    return text


def _check_open(session: Session, idea: Idea, call: Call) -> None:
    session.refresh(call)
    status, hidden_at = session.exec(select(Idea.status, Idea.hidden_at).where(Idea.id == idea.id)).one()
    if status != IdeaStatus.published or hidden_at is not None:
        raise Forbidden(N_("This idea cannot receive comments."))
    if not accepts_comments(call):
        raise InvalidTransition(COMMENTS_CLOSED)


def create_comment(session: Session, settings: Settings, *, idea: Idea, call: Call, author: User, body: str,
                   parent_id: int | None = None, language: str = "") -> Comment:
    """Post a comment (or a reply) and tell the followers, and the author of the comment
    answered. Commenting does not make one follow the idea (replies reach their addressee
    anyway, as the "reply" kind); following is a choice of its own. `language` is the one the
    author declares ("" : detected, app.contentlang); one not among LANGUAGES raises ValidationFailed."""
    assert idea.id is not None and author.id is not None
    if language and language not in LANGUAGES:
        raise ValidationFailed({"language": N_("Choose a language from the list.")})
    text = _clean_body(body)
    lock_user(session, author.id)  # the person first, then the idea (as votes do): no deadlock
    _check_open(session, idea, call)
    # Rate limit (raises), and a new account posting links is held for review.
    held = posting_policy.check_posting(session, author, text, "comment")
    reply_to: Comment | None = None
    if parent_id is not None:
        reply_to = session.get(Comment, parent_id)
        if reply_to is None or reply_to.idea_id != idea.id:
            raise NotFound(N_("The comment you are replying to no longer exists."))
    comment = Comment(idea_id=idea.id, author_id=author.id, body_md=text, body_html=render_markdown(text),
                      language=contentlang.declared_or_detected(language, text),
                      parent_id=(reply_to.parent_id or reply_to.id) if reply_to else None,
                      reply_to_id=reply_to.id if reply_to else None)
    session.add(comment)
    session.flush()
    session.execute(update(Idea).where(col(Idea.id) == idea.id).values(comment_count=col(Idea.comment_count) + 1))
    if held:
        posting_policy.hold_comment(session, comment=comment, author=author)
    else:
        notify.comment_posted(session, settings, idea=idea, comment=comment, actor=author, reply_to=reply_to)
    return comment


def edit_comment(session: Session, *, comment: Comment, body: str) -> Comment:
    """The route checked `comment.edit` (author, within the edit window)."""
    text = _clean_body(body)
    comment.body_md = text
    comment.body_html = render_markdown(text)
    comment.edited_at = utcnow()
    session.add(comment)
    session.flush()
    posting_policy.review_comment_edit(session, comment=comment)  # a new account adding a link is held
    return comment


def delete_comment(session: Session, *, comment: Comment) -> bool:
    """Blank the comment but keep its place, so replies still make sense. Its idea counts it
    no more, unless it was hidden (then it was not counted, see app.comment.hiding)."""
    hidden = session.execute(
        update(Comment).where(col(Comment.id) == comment.id, col(Comment.deleted_at).is_(None))
        .values(deleted_at=utcnow(), body_md="", body_html="").returning(col(Comment.hidden_at))
    ).all()
    if not hidden:
        return False
    if hidden[0][0] is None:
        session.execute(
            update(Idea).where(col(Idea.id) == comment.idea_id).values(comment_count=col(Idea.comment_count) - 1)
        )
    session.refresh(comment)
    return True


def threads(session: Session, *, idea_id: int) -> list[CommentView]:
    """Every comment of an idea as threads (oldest first), with names, in one query."""
    rows = session.exec(
        select(Comment, User.display_name)
        .join(User, col(User.id) == Comment.author_id, isouter=True)
        .where(Comment.idea_id == idea_id)
        .order_by(col(Comment.created_at), col(Comment.id))
    ).all()
    views: dict[int, CommentView] = {}
    top: list[CommentView] = []
    for comment, name in rows:
        assert comment.id is not None
        view = CommentView(comment=comment, author_name=name or "")
        views[comment.id] = view
        if comment.parent_id is None:
            top.append(view)
    for view in views.values():
        c = view.comment
        if c.parent_id is not None and c.parent_id in views:
            views[c.parent_id].replies.append(view)
            if c.reply_to_id and c.reply_to_id != c.parent_id and c.reply_to_id in views:
                view.reply_to_name = views[c.reply_to_id].author_name
    return top


def count_rows(session: Session, idea_id: int) -> int:
    """Comments the public can read (neither deleted nor hidden), counted from the rows: what
    `Idea.comment_count` holds (tests and repairs; pages read the column)."""
    return len(session.exec(
        select(Comment.id).where(Comment.idea_id == idea_id, col(Comment.deleted_at).is_(None),
                                 col(Comment.hidden_at).is_(None))
    ).all())

"""Notifications: in the site, and by e-mail through the outbox, per each person's preferences
(per kind: immediately, in a daily or weekly digest, or never; see app.notify.digest).

Other domains call the event functions below (`comment_posted`, `idea_status_changed`,
`official_answer`, `idea_edited`, `results_published`, `item_hidden`, `support_set_aside`) in
their own transaction. Nobody is told about their own action. News for many people (an idea's
followers, a call's participants) is told to the first of them in that transaction, to the
others by the worker (`tell_audience`, app.notify.audiences): the events return how many were
told at once. E-mails are written in the recipient's language and carry an unsubscribe link
that works without logging in: it is signed for that single purpose and names one person and
one kind of e-mail.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, func, insert, update
from sqlmodel import Session, col, select

from app import links, mail
from app.account.models import Role, User
from app.call.models import Call
from app.clock import utcnow
from app.comment.models import Comment
from app.errors import ValidationFailed
from app.i18n import N_, translate
from app.idea.models import Idea, IdeaStatus, IdeaVersion
from app.notify import audiences, periods
from app.notify.audiences import Audience
from app.notify.models import DIGESTS, EmailDelivery, Notification, NotificationKind, NotificationPreference
from app.notify.news import News
from app.notify.views import FORMER_ACTOR, NotificationView
from app.settings import Settings

UNSUBSCRIBE_SALT = "notify-unsubscribe"

STATUS_LABELS = {
    "draft": N_("draft"),
    "submitted": N_("waiting for moderation"),
    "changes_requested": N_("changes requested"),
    "published": N_("published"),
    "rejected": N_("rejected"),
    "withdrawn": N_("withdrawn"),
    "merged": N_("merged with another idea"),
    "under_study": N_("under study"),
    "accepted": N_("accepted"),
    "partly_accepted": N_("partly accepted"),
    "implemented": N_("implemented"),
}


def is_status_label(detail: str) -> bool:
    """Whether a notification's detail names a status ("accepted") rather than saying a sentence."""
    return detail in _STATUS_LABEL_SET


_STATUS_LABEL_SET = frozenset(STATUS_LABELS.values()) | {N_("answered")}


# --- Unsubscribe links -------------------------------------------------------------------

def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.resolved_secret_key, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(settings: Settings, *, user_id: int, kind: str | list[str]) -> str:
    """A signed token naming one person and the kind(s) of e-mail its link switches off: one
    kind for a notification's e-mail, the kinds it lists for a digest."""
    return _serializer(settings).dumps({"u": user_id, "k": kind})


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, list[str]] | None:
    """(user id, kinds) from a genuine token; None if it was forged, altered or malformed."""
    if not token or len(token) > 300:
        return None
    try:
        data = _serializer(settings).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, kind = data.get("u"), data.get("k")
    kinds = [kind] if isinstance(kind, str) else kind
    known = set(NotificationKind)
    if not isinstance(user_id, int) or not isinstance(kinds, list) or not kinds \
            or not all(isinstance(k, str) and k in known for k in kinds):
        return None
    return user_id, [str(k) for k in kinds]


def unsubscribe_url(settings: Settings, *, user_id: int, kind: str | list[str]) -> str:
    """The page, linked from the e-mail's text, where a button switches that e-mail off."""
    token = unsubscribe_token(settings, user_id=user_id, kind=kind)
    return settings.absolute_url(links.path("notify:unsubscribe", token=token))


def one_click_url(settings: Settings, *, user_id: int, kind: str | list[str]) -> str:
    """The List-Unsubscribe address: mailbox providers POST `List-Unsubscribe=One-Click` to it
    (RFC 8058), without cookies; a GET shows the same page as `unsubscribe_url`."""
    token = unsubscribe_token(settings, user_id=user_id, kind=kind)
    return settings.absolute_url(links.path("notify:one_click", token=token))


# --- Preferences -----------------------------------------------------------------------------

def delivery_preferences(session: Session, user_id: int) -> dict[str, EmailDelivery]:
    """Every kind -> how its e-mails reach this person (immediately unless they chose otherwise)."""
    return _preferences_of(session, [user_id]).get(user_id, _defaults())


def _defaults() -> dict[str, EmailDelivery]:
    return {kind.value: EmailDelivery.immediate for kind in NotificationKind}


def _preferences_of(session: Session, user_ids: list[int]) -> dict[int, dict[str, EmailDelivery]]:
    """`delivery_preferences` of many people in one statement: {user id: preferences} (a person
    who chose nothing has the defaults)."""
    found = {user_id: _defaults() for user_id in user_ids}
    if not user_ids:
        return found
    rows = session.exec(select(NotificationPreference).where(col(NotificationPreference.user_id).in_(user_ids)))
    for row in rows:
        if row.kind in found[row.user_id]:
            found[row.user_id][row.kind] = EmailDelivery(row.delivery)
    return found


def set_delivery(session: Session, *, user_id: int, kind: str, delivery: EmailDelivery) -> None:
    """Record one choice. ValueError for a kind or a delivery that does not exist (callers
    validate input first: see `parse_deliveries`)."""
    if kind not in set(NotificationKind):
        raise ValueError(kind)
    value = EmailDelivery(delivery).value
    changed = session.execute(
        update(NotificationPreference)
        .where(col(NotificationPreference.user_id) == user_id, col(NotificationPreference.kind) == kind)
        .values(delivery=value)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.execute(insert(NotificationPreference).values(user_id=user_id, kind=kind, delivery=value))


def parse_deliveries(form: Mapping[str, object], kinds: list[str]) -> dict[str, EmailDelivery]:
    """The preferences form's choices: field `delivery_<kind>` for each kind offered, one of
    EmailDelivery's values. Raises ValidationFailed naming each missing or unknown choice."""
    choices: dict[str, EmailDelivery] = {}
    errors: dict[str, str] = {}
    for kind in kinds:
        value = form.get(f"delivery_{kind}")
        if isinstance(value, str) and value in set(EmailDelivery):
            choices[kind] = EmailDelivery(value)
        else:
            errors[f"delivery_{kind}"] = N_("Choose how you want to receive these e-mails.")
    if errors:
        raise ValidationFailed(errors)
    return choices


def set_deliveries(session: Session, *, user_id: int, choices: Mapping[str, EmailDelivery]) -> None:
    """Record the preferences form (kinds it did not offer keep their choice)."""
    for kind, delivery in choices.items():
        set_delivery(session, user_id=user_id, kind=kind, delivery=delivery)


def unsubscribe(session: Session, *, user_id: int, kinds: list[str]) -> None:
    """What an unsubscribe link does: no more e-mails of these kinds (notifications stay on the
    site; a digest already waiting leaves them out)."""
    for kind in kinds:
        set_delivery(session, user_id=user_id, kind=kind, delivery=EmailDelivery.none)


# --- Reading -------------------------------------------------------------------------------

# Built once: every page of a signed-in person runs it, in its header (issue 14).
_UNREAD = (select(func.count()).select_from(Notification)
           .where(col(Notification.user_id) == bindparam("user_id"), col(Notification.read_at).is_(None)))


def unread_count(session: Session, user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return int(session.exec(_UNREAD, params={"user_id": user_id}).one())


def recent(session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    """The user's latest `limit` notifications, newest first."""
    return list(session.exec(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc()).limit(limit)
    ).all())


def mark_all_read(session: Session, user_id: int, only_ids: list[int] | None = None) -> int:
    """Mark someone's notifications read: all of them, or only those they were shown."""
    query = update(Notification).where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
    if only_ids is not None:
        query = query.where(col(Notification.id).in_(only_ids))
    result = session.execute(query.values(read_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- Sending -------------------------------------------------------------------------------

def notify(session: Session, settings: Settings, *, recipient: User, kind: NotificationKind,
           actor: User | None, link: str, subject: str, detail: str = "", idea_id: int | None = None,
           comment_id: int | None = None, call_id: int | None = None, note: str = "") -> Notification | None:
    """Tell one person: a row for the site, and by e-mail as they chose for this kind: an
    e-mail now, the row marked for their next daily or weekly digest (app.notify.digest), or
    nothing. Never the actor. `detail` is an English msgid (translated when shown); `note` is
    someone's own words.

    The row names the actor by id, not by a copy of their name. An e-mail is composed now, and
    checked again and composed anew when the worker sends it (app.notify.delivery)."""
    told = notify_each(session, settings, recipients=[recipient], actor=actor,
                       news=News(kind=kind, link=link, subject=subject, detail=detail, idea_id=idea_id,
                                 comment_id=comment_id, call_id=call_id, note=note))
    return told[0] if told else None


def notify_each(session: Session, settings: Settings, *, recipients: Sequence[User], news: News,
                actor: User | None) -> list[Notification]:
    """`notify` each of `recipients` of `news` made by `actor` (the same news to many: an idea's
    followers, a call's participants); returns the rows written, in the order of `recipients`
    (the actor and inactive accounts are skipped). Their preferences are read in one statement,
    the e-mails' signature once and each digest job queued once, where each person cost all
    three (300 followers told under cProfile: 1.51 s before, 0.73 s so; issue 14)."""
    kind = news.kind
    people = [p for p in recipients if p.id is not None and p.banned_at is None and p.deleted_at is None
              and not (actor is not None and actor.id == p.id)]
    if not people:
        return []
    preferences = _preferences_of(session, [p.id for p in people if p.email_verified_at is not None and p.id])
    signature = mail.platform_signature(session) if preferences else ""
    rows = []
    digests: set[tuple[EmailDelivery, str]] = set()  # the digest jobs made sure of, by cadence and period
    for recipient in people:
        assert recipient.id is not None
        delivery = preferences[recipient.id][kind] if recipient.id in preferences else EmailDelivery.none
        row = Notification(user_id=recipient.id, kind=kind, idea_id=news.idea_id, comment_id=news.comment_id,
                           call_id=news.call_id, actor_id=actor.id if actor else None,
                           subject=news.subject[:200], detail=news.detail[:200], link=news.link[:300],
                           digest=delivery.value if delivery in DIGESTS else None)
        session.add(row)
        rows.append((recipient, row, delivery))
        if delivery in DIGESTS:
            digest = (delivery, periods.period_of(delivery, row.created_at).key)
            if digest not in digests:
                digests.add(digest)
                periods.schedule(session, cadence=delivery, when=row.created_at)
    if any(delivery == EmailDelivery.immediate for _r, _row, delivery in rows):
        session.flush()  # the rows' ids, for the worker's check
    for recipient, row, delivery in rows:
        if delivery != EmailDelivery.immediate:
            continue
        view = NotificationView(row, available=True, subject=row.subject,
                                actor=actor.display_name if actor else "", link=row.link)
        mail.queue_email(
            session, to=recipient.email, template=f"notify_{kind.value}", lang=recipient.language,
            user_id=recipient.id, extra={"notification_id": row.id, "note": news.note}, signature=signature,
            **email_context(settings, recipient=recipient, view=view, note=news.note),
        )
    return [row for _r, row, _d in rows]


def tell_audience(session: Session, settings: Settings, *, audience: Audience, key: int,
                  excluded: Iterable[int | None] = (), news: News, actor: User | None) -> int:
    """`notify_each` the people of `audience` (its idea or call `key`) but `excluded`: the first
    IN_REQUEST of them now, the others by the worker, queued in this transaction
    (app.notify.fanout). Returns how many were told now."""
    left_out = {i for i in excluded if i is not None}
    people, last = audiences.page(session, audience, key, after=0, limit=audiences.IN_REQUEST)
    if last is not None:
        audiences.continue_later(session, audience, key, after=last, excluded=sorted(left_out),
                                 news=news.to_payload(actor))
    return len(notify_each(session, settings, recipients=[p for p in people if p.id not in left_out],
                           news=news, actor=actor))


def email_context(settings: Settings, *, recipient: User, view: NotificationView, note: str) -> dict[str, Any]:
    """What templates/emails/notify_<kind>.txt needs to tell `recipient` about `view`, in
    their language. Used when the e-mail is queued and again when it is sent."""
    assert recipient.id is not None
    n = view.notification
    return {
        "name": recipient.display_name,
        "actor": translate(recipient.language, FORMER_ACTOR) if view.actor_former else view.actor,
        "subject": view.subject, "detail": n.detail, "note": note, "is_status": is_status_label(n.detail),
        "link": settings.absolute_url(view.link),
        "unsubscribe": unsubscribe_url(settings, user_id=recipient.id, kind=n.kind),
        "one_click": one_click_url(settings, user_id=recipient.id, kind=n.kind),
        "preferences": settings.absolute_url(links.path("notify:preferences")),
    }


def comment_posted(session: Session, settings: Settings, *, idea: Idea, comment: Comment, actor: User,
                   reply_to: Comment | None = None) -> int:
    """A new comment: a "reply" to the author answered, a "comment" to the idea's other
    followers. Returns how many people were told."""
    assert idea.id is not None and comment.id is not None
    link = links.comment_path(idea.id, comment.id)
    told: set[int] = set()
    if reply_to is not None and reply_to.author_id is not None and reply_to.author_id != actor.id:
        author = session.get(User, reply_to.author_id)
        if author is not None and notify(session, settings, recipient=author, kind=NotificationKind.reply,
                                         actor=actor, link=link, subject=idea.title, idea_id=idea.id,
                                         comment_id=comment.id):
            told.add(reply_to.author_id)
    return len(told) + tell_audience(session, settings, audience=Audience.followers, key=idea.id, excluded=told,
                                     actor=actor, news=News(kind=NotificationKind.comment, link=link,
                                                            subject=idea.title, idea_id=idea.id, comment_id=comment.id))


def idea_status_changed(session: Session, settings: Settings, *, idea: Idea, actor: User | None,
                        to_status: str, note: str = "") -> int:
    """Tell the idea's followers that its status changed (call after the change). `note` is
    the public reason, in the moderator's words. Returns how many people were told."""
    assert idea.id is not None
    return tell_audience(session, settings, audience=Audience.followers, key=idea.id, actor=actor,
                         news=News(kind=NotificationKind.status, link=links.idea_path(idea.id), subject=idea.title,
                                   detail=STATUS_LABELS.get(to_status, to_status), note=note, idea_id=idea.id))


def official_answer(session: Session, settings: Settings, *, idea: Idea, actor: User | None) -> int:
    """Tell the idea's followers that the city answered it (call after setting the answer)."""
    assert idea.id is not None
    return tell_audience(session, settings, audience=Audience.followers, key=idea.id, actor=actor,
                         news=News(kind=NotificationKind.status, link=links.idea_path(idea.id, "answer"),
                                   subject=idea.title, idea_id=idea.id,
                                   detail=STATUS_LABELS.get(idea.answer_status or "", N_("answered"))))


# What an edit notification says of who changed the idea (its `detail`, an English msgid).
EDITED_BY_AUTHOR = N_("changed by its author")
EDITED_BY_MODERATION = N_("changed by the moderation team")


def tell_edits(session: Session, settings: Settings, *, idea: Idea) -> int:
    """Tell the supporters and followers of `idea` of each edit of its public wording not yet
    told (`IdeaVersion.told_at`), once the idea is public: at once after an edit of a public
    idea; after a moderator's approval (or restore) for an edit that was held back meanwhile,
    since while it waited nobody but moderators could read it. Marks each version told.
    Returns how many notifications were written."""
    if not idea.is_public or idea.id is None:
        return 0
    untold = session.exec(select(IdeaVersion).where(
        IdeaVersion.idea_id == idea.id, col(IdeaVersion.told_at).is_(None),
        col(IdeaVersion.status).in_([str(IdeaStatus.published)]),
    ).order_by(col(IdeaVersion.id))).all()
    count = 0
    for version in untold:
        editor = session.get(User, version.editor_id) if version.editor_id is not None else None
        count += idea_edited(session, settings, idea=idea, version=version, actor=editor)
        version.told_at = utcnow()
        session.add(version)
    return count


def idea_edited(session: Session, settings: Settings, *, idea: Idea, version: IdeaVersion, actor: User | None) -> int:
    """Tell the idea's supporters and followers who may still see it that its wording changed
    (call after recording `version`), never the editor. The link leads to the edit in the
    idea's public history, where the previous wording is kept; the e-mail names the previous
    title when the title changed. Returns how many people were told."""
    assert idea.id is not None and version.id is not None
    detail = EDITED_BY_MODERATION if version.by_moderation else EDITED_BY_AUTHOR
    note = version.title_before if version.title_before != version.title_after else ""
    return tell_audience(session, settings, audience=Audience.supporters_and_followers, key=idea.id, actor=actor,
                         news=News(kind=NotificationKind.edited, link=links.idea_path(idea.id, f"version-{version.id}"),
                                   subject=idea.title, detail=detail, note=note, idea_id=idea.id))


def results_published(session: Session, settings: Settings, *, call: Call, actor: User | None) -> int:
    """Tell everyone who took part in the call (app.notify.audiences): supporting an idea does
    not make one follow it, but its call's results still concern the supporter."""
    assert call.id is not None
    return tell_audience(session, settings, audience=Audience.participants, key=call.id, actor=actor,
                         news=News(kind=NotificationKind.results, link=links.call_path(call.slug), subject=call.title,
                                   call_id=call.id))


def item_hidden(session: Session, settings: Settings, *, idea: Idea, comment: Comment | None = None) -> int:
    """Tell the moderators that reports hid an idea or a comment, pending their review."""
    assert idea.id is not None
    moderators = session.exec(
        select(User).where(col(User.role).in_([Role.moderator, Role.admin]), col(User.banned_at).is_(None),
                           col(User.deleted_at).is_(None)).order_by(col(User.id))
    ).all()
    link = links.comment_path(idea.id, comment.id) if comment is not None and comment.id else links.idea_path(idea.id)
    return len(notify_each(session, settings, recipients=moderators, actor=None, news=News(
        kind=NotificationKind.report, link=link, subject=idea.title,
        detail=N_("a comment") if comment is not None else N_("the idea"),
        idea_id=idea.id, comment_id=comment.id if comment is not None else None)))


def support_set_aside(session: Session, settings: Settings, *, recipient: User, idea: Idea,
                      detail: str) -> Notification | None:
    """Tell `recipient` that their support for `idea` was set aside to keep them within the call's
    limit (app.vote.limits): `detail` is why (an English msgid), and the link goes to the idea's
    support panel, where they may withdraw another support and support this idea again."""
    assert idea.id is not None
    return notify(session, settings, recipient=recipient, kind=NotificationKind.support, actor=None,
                  link=links.idea_path(idea.id, "vote"), subject=idea.title, detail=detail, idea_id=idea.id)

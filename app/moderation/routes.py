"""Moderator pages: the queue, decisions on one idea and on comments. People (bans) are in
people_routes, the review of a call and its results in review_routes."""

from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from app import authz, contentlang, links
from app.account.models import User
from app.announce.reply_routes import visible_to_review
from app.assistant import handoff as assistant_handoff
from app.audit import TargetType
from app.authz import Action
from app.call.models import Call, Phase
from app.call.phases import current_phase
from app.comment.models import Comment
from app.deps import AppSettings, DbSession, ModeratorUser
from app.errors import NotFound, ValidationFailed
from app.i18n import N_, N_plural, current_language
from app.idea import versions as idea_versions
from app.idea.models import ANSWER_LABELS, AnswerStatus, Idea, IdeaStatus, IdeaStatusChange
from app.intake import service as intake_service
from app.intake.models import CHANNEL_LABELS
from app.locks import lock_ideas
from app.moderation import (
    admin_service,
    comment_decisions,
    idea_decisions,
    queries,
    report_decisions,
)
from app.moderation.fields import LongText, Short, Text
from app.params import parse_id, parse_number
from app.report.models import REASON_LABELS
from app.residents import service as residents
from app.search import engines as search_engines
from app.search.backend import document_body
from app.search.routes import STATUS_LABELS
from app.settings import Settings
from app.submission import service as submission
from app.submission.web import FormToken, replay
from app.web import flash, redirect, render

router = APIRouter(prefix="/moderation", tags=["moderation"], include_in_schema=False)

# The bulk approval's report: how many were approved, and how many were left as they were
# (already decided meanwhile, or the moderator's own idea), each sentence with its own plural.
APPROVED = N_plural("{count} idea approved.", "{count} ideas approved.", "count")
SKIPPED = N_plural("{count} idea skipped: already decided, or your own.",
                   "{count} ideas skipped: already decided, or your own.", "count")



def _idea(session: Session, user: User, idea_id: int) -> Idea:
    """The idea, if the moderator may see it: NotFound for a draft never submitted, which its
    author was told only they can see (app.authz.never_submitted)."""
    idea = session.get(Idea, idea_id)
    if idea is None or not authz.can(user, Action.idea_view, idea):
        raise NotFound()
    return idea


def _target(session: Session, item: Idea | Comment, call_id: int) -> authz.Moderated:
    return authz.Moderated(item, admin_service.assigned_ids(session, call_id))


def idea_to_decide(session: Session, user: User, idea_id: int, action: Action = Action.moderation_decide) -> Idea:
    """The idea `user` (a moderator) decides on: NotFound, or Forbidden when it is their own
    or in a call assigned to other moderators."""
    idea = _idea(session, user, idea_id)
    authz.require(user, action, _target(session, idea, idea.call_id))
    return idea


# --- Queue --------------------------------------------------------------------------------

@router.get("", name="moderation:queue")
def queue_page(request: Request, session: DbSession, moderator: ModeratorUser, tab: str = "pending", call: str = "",
               category: str = "", district: str = "", age: str = "", page: int = 1) -> HTMLResponse:
    tab = tab if tab in queries.TABS else "pending"
    filters = queries.QueueFilters(call_id=parse_id(call), category_id=parse_id(category),
                                   district_id=parse_id(district),
                                   older_than_days=parse_number(age, queries.MAX_AGE_DAYS))
    items = queries.queue(session, tab, filters, page=max(1, min(page, 10000)))
    counts = queries.counts(session, filters)
    calls = {c.id: c for c in session.exec(select(Call)).all()}
    # Calls whose selection is open (review) or was published, for the review pages.
    review_calls = sorted((c for c in calls.values() if current_phase(c) in (Phase.review, Phase.results)),
                          key=lambda c: c.title)
    return render(request, "moderation/queue.html", {
        "tab": tab, "items": items, "counts": counts, "reply_count": len(visible_to_review(session, moderator)),
        "assistant_count": assistant_handoff.waiting_count(session),
        "filters": filters, "choices": queries.filter_choices(
            session, filters.call_id), "calls": calls, "page": page, "page_size": queries.PAGE_SIZE,
        "query": urlencode(filters.as_query()), "reason_labels": REASON_LABELS, "review_calls": review_calls,
    })


@router.post("/bulk-approve", name="moderation:bulk_approve")
def bulk_approve(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser,
                 idea_ids: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
                 back: Short = "") -> Response:
    ids = [i for i in (parse_id(v) for v in idea_ids[:200]) if i is not None]
    ideas = session.exec(select(Idea).where(col(Idea.id).in_(ids)).order_by(col(Idea.id))).all() if ids else []
    approved = skipped = 0
    assigned: dict[int, frozenset[int]] = {}
    # Each approval locks its idea's supporters before the idea: all of them first, once; then
    # all the ideas, so that no approval waits for an idea while it holds a shard of the
    # counters an earlier one moved (app.locks.lock_ideas). FOR UPDATE, as each decision locks
    # its idea: not a lock made stronger later, which may deadlock.
    idea_decisions.lock_supporters(session, list(ideas))
    locked = lock_ideas(session, [i.id for i in ideas if i.id is not None], for_update=True)
    if locked:
        # Read again under the locks: another moderator (or the author) may have decided one
        # while this waited for its lock, and a decision from the first read then failed the
        # whole bulk (each decision reads its idea again and refuses what is not submitted).
        ideas = session.exec(select(Idea).where(col(Idea.id).in_(locked)).order_by(col(Idea.id))
                             .execution_options(populate_existing=True)).all()
    for idea in ideas:
        if idea.call_id not in assigned:
            assigned[idea.call_id] = admin_service.assigned_ids(session, idea.call_id)
        target = authz.Moderated(idea, assigned[idea.call_id])
        # Each idea is checked on its own: one's own idea or an already decided one is skipped.
        if not authz.can(user, Action.moderation_decide, target) or idea.status != IdeaStatus.submitted:
            skipped += 1
            continue
        idea_decisions.approve_idea(session, actor=user, idea=idea, settings=settings)
        approved += 1
    session.commit()
    # Back to the same filtered view (only the queue's own filter names survive).
    kept = {k: v for k, v in parse_qsl(back) if k in ("call", "category", "district", "age") and v.isdigit()}
    response = redirect(links.path("moderation:queue", _query={"tab": "pending", **kept}))
    flash(request, response, APPROVED, "success", count=approved)
    if skipped:
        flash(request, response, SKIPPED, "warning", count=skipped)
    return response


# --- One idea -----------------------------------------------------------------------------

MERGE_CHOICES = 10


def merge_candidates(session: Session, settings: Settings, idea: Idea, similar: list[Idea], query: str) -> list[Idea]:
    """The ideas `idea` may be merged into, offered by the merge form: its possible duplicates
    (`similar`), then the public ideas of its call matching the moderator's `query` (by the
    search backend's similar-ideas ranking), at most MERGE_CHOICES, never itself."""
    found = list(similar)
    if query.strip():
        found += search_engines.suggest(session, settings, idea.call_id, query.strip(), exclude_id=idea.id)
    seen: set[int | None] = {idea.id}
    unique = []
    for candidate in found:
        if candidate.id not in seen and candidate.call_id == idea.call_id:
            seen.add(candidate.id)
            unique.append(candidate)
    return unique[:MERGE_CHOICES]


def _idea_context(session: Session, idea: Idea, user: User, settings: Settings, merge_q: str = "") -> dict[str, Any]:
    assert idea.id is not None
    assigned = admin_service.assigned_ids(session, idea.call_id)
    comments = [(comment, reports, authz.can(user, Action.moderation_decide, authz.Moderated(comment, assigned)))
                for comment, reports in queries.reported_comments(session, idea.id)]
    call = session.get(Call, idea.call_id)
    author = session.get(User, idea.author_id) if idea.author_id else None
    history = session.exec(select(IdeaStatusChange).where(IdeaStatusChange.idea_id == idea.id)
                           .order_by(col(IdeaStatusChange.created_at), col(IdeaStatusChange.id))).all()
    merged_into = session.get(Idea, idea.merged_into_id) if idea.merged_into_id else None
    mergeable = idea.status in idea_decisions.MODERATOR_TRANSITIONS["merge"][0]
    similar = (search_engines.suggest(session, settings, idea.call_id, idea.title, document_body(idea),
                                      exclude_id=idea.id)
               if idea.status == IdeaStatus.submitted or mergeable else [])
    return {
        "idea": idea, "call": call, "author": author, "history": history,
        "intake": intake_service.intake_of(session, idea.id) if author is None else None,
        "channel_labels": CHANNEL_LABELS,
        # That the author is a verified resident; never what their provider said about them.
        "author_resident": residents.is_resident(session, author),
        "versions": idea_versions.version_views(session, idea.id),
        "audit": queries.entries_for(session, TargetType.idea, idea.id),
        "open_reports": report_decisions.open_report_count(session, TargetType.idea, idea.id),
        "reported_comments": comments, "target": authz.Moderated(idea, assigned),
        "photos": queries.photos(session, idea.id),
        "phase": current_phase(call) if call else None, "Phase": Phase, "merged_into": merged_into,
        "reasons": idea_decisions.REJECTION_REASONS, "answer_labels": ANSWER_LABELS,
        "language_labels": contentlang.LANGUAGE_LABELS,
        "answer_statuses": list(AnswerStatus), "IdeaStatus": IdeaStatus,
        "transitions": idea_decisions.MODERATOR_TRANSITIONS, "values": {}, "errors": {},
        # A pending idea's possible duplicates, found as for an author writing one.
        "similar": similar if idea.status == IdeaStatus.submitted else [],
        # The merge form's choices: those duplicates, then what a moderator searched for.
        "merge_candidates": merge_candidates(session, settings, idea, similar, merge_q), "merge_q": merge_q,
        "status_labels": STATUS_LABELS, "for_moderation": True,
    }


@router.get("/ideas/{idea_id}", name="moderation:idea")
def idea_page(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
              merge_q: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """An idea as moderators see it, with its decisions; `merge_q` searches the merge form's choices."""
    idea = _idea(session, user, idea_id)
    context = _idea_context(session, idea, user, settings, merge_q)
    if merge_q:
        context["open_form"] = "merge"
    return render(request, "moderation/idea.html", context)


def _invalid(request: Request, session: Session, user: User, idea: Idea, exc: ValidationFailed,
             values: dict[str, Any], form: str) -> HTMLResponse:
    session.rollback()
    session.refresh(idea)
    context = _idea_context(session, idea, user, request.app.state.settings)
    context.update(values=values, errors=exc.errors, open_form=form)
    return render(request, "moderation/idea.html", context, status_code=422)


def _after(request: Request, session: Session, idea: Idea, message: str, tab: str = "pending") -> Response:
    """Back to work: the next idea of the same tab, or the queue when it is empty."""
    following = queries.next_pending_after(session, idea, tab)
    target = (links.path("moderation:idea", idea_id=following) if following
              else links.path("moderation:queue", _query={"tab": tab, "call": idea.call_id}))
    return flash(request, redirect(target), message, "success", title=idea.title)


@router.post("/ideas/{idea_id}/approve", name="moderation:approve")
def approve(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
            expected: Short = "") -> Response:
    idea = idea_to_decide(session, user, idea_id)
    idea_decisions.approve_idea(session, actor=user, idea=idea, settings=settings, expected=expected)
    session.commit()
    return _after(request, session, idea, N_("“{title}” is published."))


@router.post("/ideas/{idea_id}/request-changes", name="moderation:request_changes")
def request_changes(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
                    message: Text = "", expected: Short = "") -> Response:
    idea = idea_to_decide(session, user, idea_id)
    try:
        idea_decisions.request_changes(session, actor=user, idea=idea, message=message, settings=settings,
                                       expected=expected)
    except ValidationFailed as exc:
        return _invalid(request, session, user, idea, exc, {"message": message}, "changes")
    session.commit()
    return _after(request, session, idea, N_("The author of “{title}” was asked for changes."))


@router.post("/ideas/{idea_id}/reject", name="moderation:reject")
def reject(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
           reason_template: Short = "", reason: Text = "", expected: Short = "") -> Response:
    idea = idea_to_decide(session, user, idea_id)
    try:
        full = idea_decisions.rejection_reason(reason_template, reason, current_language())
        idea_decisions.reject_idea(session, actor=user, idea=idea, reason=full, settings=settings,
                                   expected=expected)
    except ValidationFailed as exc:
        return _invalid(request, session, user, idea, exc, {"reason": reason, "reason_template": reason_template},
                        "reject")
    session.commit()
    return _after(request, session, idea, N_("“{title}” was rejected."))


@router.post("/ideas/{idea_id}/hide", name="moderation:hide")
def hide(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
         reason: Text = "") -> Response:
    idea = idea_to_decide(session, user, idea_id)
    try:
        idea_decisions.hide_idea(session, actor=user, idea=idea, reason=reason, settings=settings)
    except ValidationFailed as exc:
        exc.errors = {"hide_reason": next(iter(exc.errors.values()))}
        return _invalid(request, session, user, idea, exc, {"hide_reason": reason}, "hide")
    session.commit()
    return flash(request, redirect(links.path("moderation:idea", idea_id=idea_id)),
                 N_("“{title}” is hidden."), "success", title=idea.title)


@router.post("/ideas/{idea_id}/restore", name="moderation:restore")
def restore(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
            reason: Text = "") -> Response:
    idea = idea_to_decide(session, user, idea_id)
    idea_decisions.restore_idea(session, actor=user, idea=idea, reason=reason, settings=settings)
    session.commit()
    return flash(request, redirect(links.path("moderation:idea", idea_id=idea_id)), N_("“{title}” is visible again."),
                 "success", title=idea.title)


@router.post("/ideas/{idea_id}/dismiss-reports", name="moderation:dismiss_idea_reports")
def dismiss_idea_reports(request: Request, session: DbSession, user: ModeratorUser, idea_id: int) -> Response:
    idea_to_decide(session, user, idea_id)
    report_decisions.dismiss_reports(session, actor=user, target_type=TargetType.idea, target_id=idea_id)
    session.commit()
    return flash(request, redirect(links.path("moderation:queue", _query={"tab": "reported"})),
                 N_("The reports were dismissed."), "success")


@router.post("/ideas/{idea_id}/answer", name="moderation:answer")
def answer(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
           answer_status: Short = "", answer_md: LongText = "", form_token: FormToken = "") -> Response:
    idea = idea_to_decide(session, user, idea_id, Action.idea_answer)
    # Sent twice, one answer: not a second history line and a second round of notifications.
    sent = submission.claim(session, token=form_token, form="moderation:answer", user_id=user.id,
                            content=[idea_id, answer_status, answer_md])
    if sent.earlier is not None:
        return replay(request, sent.earlier)
    try:
        idea_decisions.answer_idea(session, actor=user, idea=idea, answer_status=answer_status, answer_md=answer_md,
                                   settings=settings, lang=current_language())
    except ValidationFailed as exc:
        return _invalid(request, session, user, idea, exc, {"answer_status": answer_status, "answer_md": answer_md},
                        "answer")
    message = N_("The answer to “{title}” is published.")
    response = _after(request, session, idea, message, tab="answers")
    submission.settle(session, sent, location=response.headers["location"], message=message,
                      params={"title": idea.title})
    session.commit()
    return response


@router.post("/ideas/{idea_id}/answer/translation", name="moderation:answer_translate")
def translate_answer(request: Request, session: DbSession, user: ModeratorUser, idea_id: int,
                     language: Short = "", translation_md: LongText = "") -> Response:
    """A translation of the official answer into another language (app.contentlang): shown to
    readers of that language instead of the original."""
    idea = idea_to_decide(session, user, idea_id, Action.idea_answer)
    try:
        changed = idea_decisions.translate_answer(session, actor=user, idea=idea, language=language,
                                                  answer_md=translation_md)
    except ValidationFailed as exc:
        errors = {"translation_md" if k == "answer_md" else "translation_language": v for k, v in exc.errors.items()}
        return _invalid(request, session, user, idea, ValidationFailed(errors),
                        {"translation_language": language, "translation_md": translation_md}, "translate")
    session.commit()
    location = links.path("moderation:idea", idea_id=idea_id, _anchor="answer-translations-title")
    return flash(request, redirect(location),
                 N_("The translation of the answer is saved.") if changed else N_("Nothing changed."),
                 "success" if changed else "info")


@router.post("/ideas/{idea_id}/merge", name="moderation:merge")
def merge(request: Request, session: DbSession, settings: AppSettings, user: ModeratorUser, idea_id: int,
          target_id: Short = "", note: Text = "", expected: Short = "") -> Response:
    idea = idea_to_decide(session, user, idea_id)
    try:
        target_number = parse_id(target_id)
        target = session.get(Idea, target_number) if target_number else None
        if target is None or not authz.can(user, Action.idea_view, target):
            raise ValidationFailed({"target_id": N_("Choose the idea to keep.")})
        authz.require(user, Action.moderation_decide, _target(session, target, target.call_id))
        idea_decisions.merge_ideas(session, actor=user, source=idea, target=target, note=note, settings=settings,
                                   expected=expected)
    except ValidationFailed as exc:
        return _invalid(request, session, user, idea, exc, {"target_id": target_id, "note": note}, "merge")
    session.commit()
    return flash(request, redirect(links.path("moderation:idea", idea_id=target.id)),
                 N_("“{title}” was merged."), "success", title=idea.title)


# --- Comments -----------------------------------------------------------------------------

def _comment(session: Session, user: User, comment_id: int) -> Comment:
    comment = session.get(Comment, comment_id)
    idea = session.get(Idea, comment.idea_id) if comment is not None else None
    if comment is None or idea is None:
        raise NotFound()
    authz.require(user, Action.moderation_decide, _target(session, comment, idea.call_id))
    return comment


@router.post("/comments/{comment_id}/hide", name="moderation:hide_comment")
def hide_comment(request: Request, session: DbSession, user: ModeratorUser, comment_id: int,
                 reason: Text = "") -> Response:
    comment = _comment(session, user, comment_id)
    try:
        comment_decisions.hide_comment(session, actor=user, comment=comment, reason=reason)
    except ValidationFailed as exc:
        back = links.path("moderation:idea", idea_id=comment.idea_id, _anchor=f"comment-{comment_id}")
        return flash(request, redirect(back), next(iter(exc.errors.values())), "error")
    session.commit()
    return flash(request, redirect(links.path("moderation:queue", _query={"tab": "reported"})),
                 N_("The comment is hidden."), "success")


@router.post("/comments/{comment_id}/restore", name="moderation:restore_comment")
def restore_comment(request: Request, session: DbSession, user: ModeratorUser, comment_id: int,
                    reason: Text = "") -> Response:
    comment = _comment(session, user, comment_id)
    comment_decisions.restore_comment(session, actor=user, comment=comment, reason=reason)
    session.commit()
    return flash(request, redirect(links.path("moderation:queue", _query={"tab": "reported"})),
                 N_("The comment is visible again."), "success")


@router.post("/comments/{comment_id}/dismiss-reports", name="moderation:dismiss_comment_reports")
def dismiss_comment_reports(request: Request, session: DbSession, user: ModeratorUser, comment_id: int) -> Response:
    _comment(session, user, comment_id)
    report_decisions.dismiss_reports(session, actor=user, target_type=TargetType.comment, target_id=comment_id)
    session.commit()
    return flash(request, redirect(links.path("moderation:queue", _query={"tab": "reported"})),
                 N_("The reports were dismissed."), "success")

"""Every permission rule, in one place.

Routes call `require(user, Action.X, obj)`; templates call `can(user, "x.y", obj)`.
Each action maps to a pure predicate `(user, obj) -> bool` with no database access: the
route loads what the rule needs first. Features add their actions and predicates here, so a
reviewer reads the whole permission model in one file, and the test matrix walks `RULES`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from app.account.models import Role, User
from app.call.models import Call, Phase
from app.call.phases import accepts_ideas, current_phase, is_public
from app.clock import utcnow
from app.comment.models import EDIT_WINDOW as COMMENT_EDIT_WINDOW
from app.errors import Forbidden, LoginRequired
from app.i18n import N_
from app.idea.models import Idea, IdeaStatus
from app.residents.models import Access, Part


class Action(StrEnum):
    account_manage = "account.manage"
    identity_link = "identity.link"
    session_end = "session.end"  # obj: the UserSession to end
    moderation_access = "moderation.access"
    admin_access = "admin.access"
    # Calls and ideas. Idea actions that depend on the phase take `(idea, call)`.
    call_view = "call.view"
    idea_view = "idea.view"
    idea_create = "idea.create"
    idea_edit = "idea.edit"
    idea_submit = "idea.submit"
    idea_withdraw = "idea.withdraw"
    # Who a call lets submit ideas or support them (obj: Taking(call, part, resident))
    call_take_part = "call.take_part"
    # Moderation (obj: the Idea decided on; a moderator never decides on their own idea)
    moderation_decide = "moderation.decide"
    idea_answer = "idea.answer"
    results_publish = "results.publish"
    user_ban = "user.ban"  # obj: the User to ban or unban
    admin_users = "admin.users"
    admin_audit = "admin.audit"
    admin_dialogue = "admin.dialogue"
    council_report = "council.report"  # the participation report and the council's files (app.council)
    # Votes, comments, reports, following, notifications (obj: the Idea, or the Comment)
    vote_cast = "vote.cast"
    vote_withdraw = "vote.withdraw"
    comment_create = "comment.create"
    comment_edit = "comment.edit"
    comment_delete = "comment.delete"
    report_create = "report.create"
    follow_manage = "follow.manage"
    notification_view = "notification.view"
    # Announcements (obj: None for one about no call, else Moderated(call, its assigned moderators))
    announce_compose = "announce.compose"
    legal_pages_edit = "legal_pages.edit"  # the privacy notice, terms, accessibility statement, contact
    identity_edit = "identity.edit"  # the city's identity: names, logo, brand colours, footer and social links
    content_translate = "content.translate"  # translations of calls, their themes and districts (app.contentlang)
    map_manage = "map.manage"  # a call's location rule, named places, district boundaries (app.maps)
    channel_manage = "channel.manage"  # the channels announcements go to, and their credentials
    delivery_manage = "delivery.manage"  # see, retry and cancel deliveries
    reply_moderate = "reply.moderate"  # replies collected from networks: approve, hide, answer
    # Ideas from paper, e-mail, phone (app.intake). obj: Moderated(call, its assigned moderators)
    intake_enter = "intake.enter"  # enter ideas on a resident's behalf, one by one or imported from a sheet
    intake_view = "intake.view"  # see an intake's private data (contact, scan), export or erase it
    # Participatory budgets (app.budget)
    budget_settings = "budget.settings"  # a call's voting mode, budget and ballot rules (administrators)
    budget_review = "budget.review"  # obj: Moderated(idea, its call's moderators): feasibility and cost
    budget_results = "budget.results"  # obj: Moderated(call, its moderators): preview, apply the funded projects
    ballot_fill = "ballot.fill"  # fill and confirm one's own ballot (the phase is checked by the service)
    # The assistant (app.assistant). obj: the AssistantQuestion for the asker's own actions.
    assistant_knowledge = "assistant.knowledge"  # write, edit and delete the knowledge entries
    assistant_answer = "assistant.answer"  # answer questions handed to a person, promote answers into entries
    assistant_own_question = "assistant.own_question"  # see one's question, ask a person, say if it helped


Predicate = Callable[[User | None, Any], bool]


def is_active(user: User | None) -> bool:
    return user is not None and user.banned_at is None and user.deleted_at is None


def is_citizen(user: User | None) -> bool:
    """Any active account (moderators and admins are citizens too)."""
    return is_active(user)


def is_verified(user: User | None) -> bool:
    return is_active(user) and user is not None and user.email_verified_at is not None


def is_moderator(user: User | None) -> bool:
    return is_active(user) and user is not None and user.role in (Role.moderator, Role.admin)


def is_admin(user: User | None) -> bool:
    return is_active(user) and user is not None and user.role == Role.admin


def is_own(user: User | None, obj: Any) -> bool:
    """Whether `obj` (an idea, a comment...) was written by `user`."""
    return user is not None and obj is not None and getattr(obj, "author_id", None) == user.id


@dataclass(frozen=True)
class Moderated:
    """An idea or comment a moderator decides on, with the moderators assigned to its call
    (none assigned: every moderator may decide). Routes load the assignments first."""

    item: Any
    assigned: frozenset[int] = frozenset()

    @property
    def author_id(self) -> int | None:
        return getattr(self.item, "author_id", None)


def moderates(user: User | None, obj: Any) -> bool:
    """A moderator deciding on something that is not their own (a conflict of interest), in a
    call they moderate (administrators moderate every call)."""
    if not is_moderator(user) or is_own(user, obj) or user is None:
        return False
    assigned = obj.assigned if isinstance(obj, Moderated) else frozenset()
    return not assigned or user.id in assigned or user.role == Role.admin


def may_ban(user: User | None, target: Any) -> bool:
    """Moderators ban citizens; only administrators ban staff; nobody bans themself."""
    if not is_moderator(user) or user is None:
        return False
    if target is None:
        return True
    if getattr(target, "id", None) == user.id:
        return False
    return getattr(target, "role", Role.citizen) == Role.citizen or is_admin(user)


def is_author(user: User | None, idea: Idea) -> bool:
    return is_active(user) and user is not None and idea.author_id is not None and user.id == idea.author_id


def _idea_and_call(obj: Any) -> tuple[Idea, Call]:
    idea, call = obj
    return idea, call


def can_view_call(user: User | None, call: Call) -> bool:
    """Draft calls are seen by administrators only."""
    return is_public(call) or is_admin(user)


def never_submitted(idea: Idea) -> bool:
    """A draft, or a draft its author withdrew without ever submitting it: the author was told
    "only you can see it until you submit it", so no moderator sees it either."""
    return idea.status == IdeaStatus.draft or (idea.status == IdeaStatus.withdrawn and idea.submitted_at is None)


def can_view_idea(user: User | None, obj: Any) -> bool:
    """Public ideas for everyone; pending, rejected, withdrawn or hidden ones for their author and
    moderators only; drafts never submitted for their author only (everyone else gets a 404)."""
    idea = obj[0] if isinstance(obj, tuple) else obj
    return idea.is_public or is_author(user, idea) or (is_moderator(user) and not never_submitted(idea))


# While a moderator asks for changes, the author may still edit and resubmit after the
# submission phase, until the call's review is over.
_CHANGES_PHASES = frozenset({Phase.submissions, Phase.technical_review, Phase.voting, Phase.review})
_EDITABLE = frozenset({IdeaStatus.draft, IdeaStatus.submitted, IdeaStatus.changes_requested, IdeaStatus.published})


def can_edit_idea(user: User | None, obj: Any) -> bool:
    """The author edits while the call accepts ideas and no moderator has decided: not once a
    pre-moderated idea was approved, hidden, answered, rejected or merged."""
    idea, call = _idea_and_call(obj)
    if not is_author(user, idea) or idea.status not in _EDITABLE:
        return False
    if idea.hidden_at is not None or idea.answer_status is not None:
        return False
    if idea.status == IdeaStatus.changes_requested:
        return current_phase(call) in _CHANGES_PHASES
    if idea.status == IdeaStatus.published and call.premoderation:
        return False
    return accepts_ideas(call)


def can_submit_idea(user: User | None, obj: Any) -> bool:
    idea, call = _idea_and_call(obj)
    if not is_author(user, idea) or idea.hidden_at is not None:
        return False
    if idea.status == IdeaStatus.changes_requested:
        return current_phase(call) in _CHANGES_PHASES
    return idea.status == IdeaStatus.draft and accepts_ideas(call)


_WITHDRAWABLE = frozenset({IdeaStatus.draft, IdeaStatus.submitted, IdeaStatus.changes_requested, IdeaStatus.published})


def can_withdraw_idea(user: User | None, obj: Any) -> bool:
    """Authors take an idea back until voting ends; a selected winner or a hidden idea (a
    moderator's decision) stays."""
    idea, call = _idea_and_call(obj)
    return (is_author(user, idea) and idea.status in _WITHDRAWABLE and not idea.winner
            and idea.hidden_at is None
            and current_phase(call) in (Phase.submissions, Phase.technical_review, Phase.voting))


def idea_open_to_citizens(user: User | None, idea: Any) -> bool:
    """Votes and comments: verified citizens, on published ideas nobody hid. The call's phase
    is checked by the services, inside their transaction."""
    return is_verified(user) and idea.status == IdeaStatus.published and idea.hidden_at is None


@dataclass(frozen=True)
class Taking:
    """Someone about to take part in `call`: `part` what they do (Part.submit: propose or submit
    an idea; Part.vote: support one), `resident` whether they are a verified resident (loaded by
    the route: app.residents.service.is_resident)."""

    call: Call
    part: Part
    resident: bool


def may_take_part(user: User | None, obj: Any) -> bool:
    """The call's access rule for this part (Call.submit_access, Call.vote_access): any active
    account (the e-mail confirmation and the phase are checked by the part's own action), or
    verified residents only."""
    required = obj.call.vote_access if obj.part == Part.vote else obj.call.submit_access
    return is_active(user) and (required != Access.residents or bool(obj.resident))


def can_edit_comment(user: User | None, comment: Any) -> bool:
    """Authors correct their comment for a short while, until someone may have read it."""
    return (is_active(user) and is_own(user, comment) and comment.deleted_at is None
            and comment.hidden_at is None and utcnow() - comment.created_at <= COMMENT_EDIT_WINDOW)


def can_delete_comment(user: User | None, comment: Any) -> bool:
    """Authors only. A moderator hides a comment with a reason (moderation.decide), which the
    audit log keeps; deleting would erase the text with no trace of who did it or why."""
    return comment.deleted_at is None and is_active(user) and is_own(user, comment)


def asked(user: User | None, question: Any) -> bool:
    """The asker of an assistant's question, logged in (a visitor's question belongs to no one)."""
    return is_active(user) and user is not None and question is not None \
        and getattr(question, "user_id", None) == user.id


def can_report(user: User | None, obj: Any) -> bool:
    """Verified citizens report what others wrote (an idea or a comment)."""
    return is_verified(user) and not is_own(user, obj)


RULES: dict[Action, Predicate] = {
    Action.account_manage: lambda user, _obj: is_active(user),
    # Linking a provider's account: citizens only; a staff account stays a password account.
    Action.identity_link: lambda user, _obj: is_active(user) and user is not None and user.role == Role.citizen,
    # A person ends only their own sessions (the sessions page of app.account.selfservice).
    Action.session_end: lambda user, row: is_active(user) and user is not None and row is not None
    and getattr(row, "user_id", None) == user.id,
    Action.moderation_access: lambda user, _obj: is_moderator(user),
    Action.admin_access: lambda user, _obj: is_admin(user),
    Action.moderation_decide: moderates,
    Action.idea_answer: moderates,
    Action.results_publish: moderates,  # obj: Moderated(call, its assigned moderators)
    Action.user_ban: may_ban,
    Action.admin_users: lambda user, _obj: is_admin(user),
    Action.admin_audit: lambda user, _obj: is_admin(user),
    Action.admin_dialogue: lambda user, _obj: is_admin(user),
    # Moderators and administrators: the figures of every call and their files (app.council).
    Action.council_report: lambda user, _obj: is_moderator(user),
    Action.call_view: can_view_call,
    Action.idea_view: can_view_idea,
    Action.idea_create: lambda user, call: is_verified(user) and accepts_ideas(call),
    Action.idea_edit: can_edit_idea,
    Action.idea_submit: can_submit_idea,
    Action.idea_withdraw: can_withdraw_idea,
    Action.call_take_part: may_take_part,
    Action.vote_cast: idea_open_to_citizens,
    Action.vote_withdraw: lambda user, _obj: is_active(user),
    Action.comment_create: idea_open_to_citizens,
    Action.comment_edit: can_edit_comment,
    Action.comment_delete: can_delete_comment,
    Action.report_create: can_report,
    Action.follow_manage: lambda user, _obj: is_active(user),
    Action.notification_view: lambda user, _obj: is_active(user),
    Action.announce_compose: lambda user, obj: is_moderator(user) if obj is None else moderates(user, obj),
    Action.channel_manage: lambda user, _obj: is_admin(user),
    Action.legal_pages_edit: lambda user, _obj: is_admin(user),
    Action.identity_edit: lambda user, _obj: is_admin(user),
    Action.content_translate: lambda user, _obj: is_admin(user),
    Action.map_manage: lambda user, _obj: is_admin(user),
    # obj: None for the lists, else Moderated(the announcement's call, its assigned moderators)
    Action.delivery_manage: lambda user, obj: is_moderator(user) if obj is None else moderates(user, obj),
    Action.reply_moderate: lambda user, obj: is_moderator(user) if obj is None else moderates(user, obj),
    # A call's moderators (or any moderator when none is assigned) and administrators.
    Action.intake_enter: lambda user, obj: is_moderator(user) if obj is None else moderates(user, obj),
    # The resident's private data follows the call: only its moderators (or all, when none is
    # assigned) and administrators, as for entering.
    Action.intake_view: lambda user, obj: is_moderator(user) if obj is None else moderates(user, obj),
    # Participatory budgets: administrators set the budget; the call's moderators (or every
    # moderator when none is assigned) review ideas, never their own, and prepare the results;
    # a citizen with a confirmed e-mail fills their own ballot (the service loads only theirs).
    Action.budget_settings: lambda user, _obj: is_admin(user),
    Action.budget_review: lambda user, obj: is_moderator(user) if obj is None else moderates(user, obj),
    Action.budget_results: lambda user, obj: is_moderator(user) if obj is None else moderates(user, obj),
    Action.ballot_fill: lambda user, _obj: is_verified(user),
    # Entries are the city's own words, like an official answer: moderators and administrators.
    Action.assistant_knowledge: lambda user, _obj: is_moderator(user),
    Action.assistant_answer: lambda user, _obj: is_moderator(user),
    Action.assistant_own_question: asked,
}


CONFIRM_EMAIL_FIRST = N_("Please confirm your e-mail address first, with the link we sent you.")


RESIDENTS_ONLY = {
    Part.vote: N_("Only verified residents of the city may support ideas in this call. To get verified, open your "
                  "account page and verify that you live here with the city's sign-in service."),
    Part.submit: N_("Only verified residents of the city may propose ideas in this call. To get verified, open your "
                    "account page and verify that you live here with the city's sign-in service."),
}


def can(user: User | None, action: Action | str, obj: Any = None) -> bool:
    """Whether `user` (None: an anonymous visitor) may do `action` on `obj`."""
    return RULES[Action(action)](user, obj)


def require(user: User | None, action: Action | str, obj: Any = None) -> None:
    """Raise unless `user` may do `action` on `obj`: anonymous visitors are sent to log in."""
    if can(user, action, obj):
        return
    if user is None:
        raise LoginRequired()
    raise Forbidden()


def require_user(user: User | None, action: Action | str, obj: Any = None) -> User:
    """`require`, for actions only a logged-in person may do: returns that person.

    Raises LoginRequired for anonymous visitors, Forbidden for the others refused.
    """
    require(user, action, obj)
    if user is None:  # a rule that lets anonymous visitors in is no rule for this
        raise LoginRequired()
    return user


def require_citizen(user: User | None, action: Action | str, obj: Any = None) -> User:
    """`require_user`, with a clearer refusal for an active account whose e-mail address is not
    confirmed yet (votes, comments and reports need it): Forbidden(CONFIRM_EMAIL_FIRST)."""
    if is_active(user) and user is not None and user.email_verified_at is None:
        raise Forbidden(CONFIRM_EMAIL_FIRST)
    return require_user(user, action, obj)


def require_taking_part(user: User | None, taking: Taking) -> User:
    """`require_user(user, Action.call_take_part, taking)`, with the reason an active account is
    refused: Forbidden(RESIDENTS_ONLY[part]), which says how to get verified."""
    if is_active(user) and not can(user, Action.call_take_part, taking):
        raise Forbidden(RESIDENTS_ONLY[taking.part])
    return require_user(user, Action.call_take_part, taking)

"""The audit log: one append-only entry per moderator, administrator or system decision.

Every decision that changes what people see or may do (moderation, bans, roles, automatic spam
holds, account deletions) is written here: who, when, what, why, before and after. `record` is
the only writer; the application never updates nor deletes an entry, and a mapper guard makes
sure no code path can. Any domain may write to the log; only moderation reads it.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Field, Session, SQLModel

from app.account.models import User
from app.clock import utcnow
from app.i18n import N_


class AuditAction(StrEnum):
    approve = "approve"
    request_changes = "request_changes"
    reject = "reject"
    hide = "hide"
    restore = "restore"
    merge = "merge"
    answer = "answer"
    shortlist = "shortlist"
    winner = "winner"
    jury_note = "jury_note"
    selection = "selection"
    publish_results = "publish_results"
    ban = "ban"
    unban = "unban"
    role_change = "role_change"
    assign_moderator = "assign_moderator"
    unassign_moderator = "unassign_moderator"
    hold = "hold"  # by the system: a new account posted a link (app.posting_policy)
    account_deleted = "account_deleted"  # by the person themself (app.account.privacy)
    password_changed = "password_changed"  # noqa: S105  by the person themself (app.account.selfservice)
    email_changed = "email_changed"  # by the person themself, confirmed from the new address
    end_sessions = "end_sessions"  # by the system: a suspended person is logged out everywhere
    set_aside_supports = "set_aside_supports"  # by the system: supports over a limit (app.vote.limits)
    announce_publish = "announce_publish"  # by a moderator, or by the system at its scheduled time
    announce_schedule = "announce_schedule"
    announce_cancel = "announce_cancel"
    announce_settings = "announce_settings"  # which events of a call may be announced
    channel_save = "channel_save"  # a channel added or its configuration changed (secrets never recorded)
    delivery_retry = "delivery_retry"
    delivery_cancel = "delivery_cancel"
    reply_approve = "reply_approve"  # a reply collected from a network, shown on the site
    reply_hide = "reply_hide"
    reply_answer = "reply_answer"  # answered on its network, as the city
    legal_page_save = "legal_page_save"  # a legal page's text in one language (app.pages.legal)
    residency_rule_save = "residency_rule_save"  # a verified-resident rule added or changed
    residency_rule_delete = "residency_rule_delete"
    identity_save = "identity_save"  # the city's identity (app.identity): names, logo, colours, links
    intake_enter = "intake_enter"  # an idea entered on a resident's behalf (app.intake)
    intake_import = "intake_import"  # ideas imported from a spreadsheet for a call
    intake_erase = "intake_erase"  # a resident's personal data erased from an intake
    translation_save = "translation_save"  # translations of a call, its themes or districts (app.contentlang)
    budget_save = "budget_save"  # a call's voting mode, budget and ballot rules (app.budget)
    budget_review = "budget_review"  # an idea's feasibility and estimated cost (app.budget)
    budget_apply = "budget_apply"  # the funded projects made the call's selection (app.budget)
    map_settings = "map_settings"  # a call's location rule or named places (app.maps)
    boundaries_import = "boundaries_import"  # district outlines imported from GeoJSON (app.maps)
    assistant_entry_save = "assistant_entry_save"  # an assistant's entry written or changed (app.assistant)
    assistant_entry_delete = "assistant_entry_delete"
    assistant_answer = "assistant_answer"  # a question handed to a person, answered by a moderator
    assistant_erase = "assistant_erase"  # a Mastodon account's questions erased on request (app.assistant.mentions)


# Why the system decided by itself (entries without an actor). Stored as these English msgids and
# shown translated in the audit log; a person's reason is stored and shown in their own words.
REASON_REPORTED = N_("Hidden automatically: enough people reported it.")
REASON_HELD = N_("Held automatically: a new account posted a link.")
REASON_AUTHOR_SUSPENDED = N_("Hidden because its author's account was suspended.")
REASON_SUSPENDED = N_("Logged out everywhere because the account was suspended.")
REASON_OVER_LIMIT = N_("Supports set aside automatically: their supporters had meanwhile used all the supports "
                       "the call allows.")
REASON_SCHEDULED = N_("Published automatically at its scheduled time.")


class TargetType(StrEnum):
    idea = "idea"
    comment = "comment"
    user = "user"
    call = "call"
    announcement = "announcement"
    channel = "channel"
    delivery = "delivery"
    reply = "reply"  # a reply collected from a network (app.announce.replies)
    legal_page = "legal_page"
    residency_rule = "residency_rule"  # a verified-resident rule (app.residents)
    identity = "identity"  # the city's identity, one row (app.identity)
    assistant_entry = "assistant_entry"  # an entry of the assistant's knowledge (app.assistant)
    assistant_question = "assistant_question"  # a question asked to the assistant


class AuditEntry(SQLModel, table=True):
    """One moderator or administrator decision. Written once, never updated nor deleted by
    the application: there is no code path that changes a row (see `record`)."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        sa.Index("ix_audit_target", "target_type", "target_id"),
        sa.Index("ix_audit_created", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    action: str = Field(sa_type=sa.String(40), index=True)
    target_type: str = Field(sa_type=sa.String(20))
    target_id: int
    # Plain text, escaped on output: the why of the decision.
    reason: str = Field(default="", sa_type=sa.Text)
    from_status: str | None = Field(default=None, sa_type=sa.String(30))
    to_status: str | None = Field(default=None, sa_type=sa.String(30))
    details: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow)


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    """A guard behind the rule: an entry loaded and changed, or deleted, never reaches the database."""
    raise PermissionError(f"audit entry {target.id} is append-only")


def record(session: Session, *, actor: User | None, action: str, target_type: str, target_id: int,
           reason: str = "", from_status: str | None = None, to_status: str | None = None,
           details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry to the audit log and flush it (so it has its id); return it.

    `actor` is None for a decision taken by the system (an automatic spam hold, an item hidden by
    reports, the consequences of a suspension), with one of the REASON_* msgids above. `action` is an
    AuditAction (or "dismiss_reports"), `target_type` a TargetType; `reason` is the plain-text
    why, escaped on output; `details` JSON-ready facts (ids moved, counts). Raises nothing of
    its own: the entry is written in the caller's transaction, and commits or rolls back with it.
    """
    entry = AuditEntry(actor_id=actor.id if actor else None, action=action, target_type=target_type,
                       target_id=target_id, reason=reason, from_status=from_status, to_status=to_status,
                       details=details or {})
    session.add(entry)
    session.flush()
    return entry

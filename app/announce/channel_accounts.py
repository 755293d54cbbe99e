"""Administrators' rules for channel accounts: adding one, changing its settings or its
credentials, switching it on and off, trying its credentials.

Secrets (tokens, passwords) are sealed at rest (app.announce.sealing), never shown back in a
form, never written in the audit log (only the names of what changed) nor in a log line. A
secret field left empty keeps what is stored. Typing the credentials again (new ones, or the same
ones if the network refused them by mistake) for a channel that needed re-authorisation makes it
usable again and sends what waited for it (delivery.resume_channel).
"""

from typing import Any

from sqlmodel import Session, col, func, select

from app.account.models import User
from app.announce import delivery
from app.announce.channels import registry
from app.announce.channels.base import DeliveryError
from app.announce.models import ChannelAccount, ChannelState, Delivery, DeliveryStatus
from app.announce.sealing import SealBroken, seal, unseal
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.db import Database
from app.errors import ValidationFailed
from app.i18n import N_
from app.observability.errors import describe
from app.settings import LANGUAGES, Settings

MAX_LABEL = 100
MAX_VALUE = 500
VISIBILITIES = ("public", "unlisted")

LABEL_REQUIRED = N_("Give the channel a name that staff will recognise.")
LABEL_TOO_LONG = N_("This name is too long: 100 characters at most.")
VALUE_TOO_LONG = N_("This value is too long: 500 characters at most.")
UNKNOWN_KIND = N_("Choose a kind of channel.")
BAD_LANGUAGE = N_("Choose one of the platform's languages.")
BAD_VISIBILITY = N_("Choose public or unlisted.")


def listed(session: Session) -> list[tuple[ChannelAccount, dict[str, int]]]:
    """Every channel, oldest first, with its deliveries counted by status."""
    channels = session.exec(select(ChannelAccount).order_by(col(ChannelAccount.id))).all()
    counts: dict[int, dict[str, int]] = {}
    rows = session.exec(select(Delivery.channel_id, Delivery.status, func.count())
                        .group_by(col(Delivery.channel_id), col(Delivery.status))).all()
    for channel_id, status, count in rows:
        counts.setdefault(channel_id, {})[status] = count
    return [(c, counts.get(c.id or 0, {})) for c in channels]


def needing_attention(session: Session) -> list[ChannelAccount]:
    """Enabled channels whose credentials were refused: the administrators' notice."""
    return list(session.exec(select(ChannelAccount).where(
        col(ChannelAccount.enabled), ChannelAccount.state == ChannelState.needs_reauth)).all())


def _clean(kind: registry.Kind, label: str, values: dict[str, str], stored: dict[str, str],
           current_config: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The label, config and secrets a form asks for, or ValidationFailed."""
    errors: dict[str, str] = {}
    label = label.strip()
    if not label:
        errors["label"] = LABEL_REQUIRED
    elif len(label) > MAX_LABEL:
        errors["label"] = LABEL_TOO_LONG
    config: dict[str, Any] = dict(current_config)
    secrets = dict(stored)
    for spec in kind.fields:
        value = values.get(spec.name, "").strip()
        if len(value) > MAX_VALUE:
            errors[spec.name] = VALUE_TOO_LONG
            continue
        if spec.secret:
            if value:  # empty: keep the stored one
                secrets[spec.name] = value
            continue
        if spec.input == "language" and value not in LANGUAGES:
            errors[spec.name] = BAD_LANGUAGE
        if spec.input == "visibility" and value not in VISIBILITIES:
            errors[spec.name] = BAD_VISIBILITY
        config[spec.name] = value
    if errors:
        raise ValidationFailed(errors)
    if kind.key == "webhook" and not secrets.get("secret"):
        secrets["secret"] = kind.module().new_secret()
    more = registry.validate(kind, config, secrets)
    if more:
        raise ValidationFailed(more)
    return label, config, secrets


def save(session: Session, settings: Settings, *, actor: User, channel: ChannelAccount | None, kind_key: str,
         label: str, values: dict[str, str]) -> ChannelAccount:
    """Add a channel of kind `kind_key` (`channel` None) or change one; `values` maps field
    names to what the form sent. Raises ValidationFailed (nothing changed) on bad input.
    New credentials on a channel waiting for them resume its deliveries."""
    if kind_key not in registry.KINDS:
        raise ValidationFailed({"kind": UNKNOWN_KIND})
    kind = registry.kind_of(kind_key)
    try:
        stored = unseal(settings, channel.secrets_sealed) if channel else {}
    except SealBroken:
        stored = {}  # unreadable under the current key: the administrator types them again
    label, config, secrets = _clean(kind, label, values, stored, dict(channel.config) if channel else {})
    changed = sorted({k for k in config if (channel is None or channel.config.get(k) != config[k])}
                     | {k for k in secrets if stored.get(k) != secrets[k]})
    if channel is None:
        channel = ChannelAccount(kind=kind.key, label=label)
    channel.label = label
    channel.config = config
    channel.secrets_sealed = seal(settings, secrets)
    channel.updated_at = utcnow()
    session.add(channel)
    session.flush()
    assert channel.id is not None
    # Credentials typed again (new ones, or the same ones the network refused by mistake).
    typed = any(spec.secret and values.get(spec.name, "").strip() for spec in kind.fields)
    if channel.state == ChannelState.needs_reauth and typed:
        delivery.resume_channel(session, channel)
    record(session, actor=actor, action=AuditAction.channel_save, target_type=TargetType.channel,
           target_id=channel.id, details={"kind": kind.key, "label": label, "changed": changed})
    return channel


def switch(session: Session, *, actor: User, channel: ChannelAccount, enabled: bool) -> None:
    """Switch a channel on or off. Off, its waiting deliveries are cancelled when the worker
    reaches them and the replies of its posts are no longer read; on again, only announcements
    published from then on go to it, and the replies of its recent posts are read again."""
    was = channel.enabled
    channel.enabled = enabled
    channel.updated_at = utcnow()
    session.add(channel)
    if enabled and not was:
        delivery.resume_collection(session, channel)
    assert channel.id is not None
    record(session, actor=actor, action=AuditAction.channel_save, target_type=TargetType.channel,
           target_id=channel.id, details={"kind": channel.kind, "label": channel.label, "enabled": enabled})


def form_values(channel: ChannelAccount) -> dict[str, str]:
    """What the edit form shows: the configuration; secret fields always empty."""
    kind = registry.KINDS.get(channel.kind)
    fields = kind.fields if kind else ()
    return {spec.name: "" if spec.secret else str(channel.config.get(spec.name, "")) for spec in fields}


def stored_secret_names(settings: Settings, channel: ChannelAccount) -> set[str]:
    """The names of the secrets stored for `channel` (their values never leave this module)."""
    try:
        return {k for k, v in unseal(settings, channel.secrets_sealed).items() if v}
    except SealBroken:
        return set()


def check(settings: Settings, db: Database, channel: ChannelAccount) -> tuple[bool, str]:
    """Try the channel's credentials on its network: (True, the account's name) or (False, why,
    in English, without a secret). Credentials the network renewed meanwhile (X's refresh) are
    set on `channel`, for the caller to commit."""
    try:
        secrets = unseal(settings, channel.secrets_sealed)
        kind = registry.kind_of(channel.kind)
        network = registry.build(kind, dict(channel.config), secrets, settings=settings, db=db)
        try:
            return True, network.check()
        finally:
            renewed: dict[str, str] | None = getattr(network, "renewed_secrets", None)
            if renewed:  # a refreshed token (X): kept in the caller's transaction
                channel.secrets_sealed = seal(settings, {**secrets, **renewed})
    except (DeliveryError, SealBroken) as exc:
        return False, describe(exc)[:300]
    except Exception as exc:  # noqa: BLE001 - shown to the administrator, never a 500
        return False, type(exc).__name__


def waiting(session: Session, channel_id: int) -> int:
    """How many deliveries wait for channel `channel_id` (pending or parked)."""
    return session.exec(select(func.count()).select_from(Delivery).where(
        Delivery.channel_id == channel_id,
        col(Delivery.status).in_([DeliveryStatus.pending, DeliveryStatus.waiting_auth]))).one()

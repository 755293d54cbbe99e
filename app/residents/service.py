"""Verified residents (issue 13): an administrator's rules per OpenID Connect provider, checked
on the claims a provider gives at sign-in, at linking or at "verify me" (app.account.oidc), the
verification they grant an account, and the record of the residents who took part in a call that
requires them.

What is kept: the rule that passed, when, and `resident_hash(issuer, subject)`, an HMAC-SHA256 of
the provider's identity under a key derived from the platform's secret (HKDF-SHA256, a purpose
of its own, as app.announce.sealing derives its key): stable for one identity, useless to anyone
without the secret, and never the claim values themselves (postal code, birth date). One hash
verifies one account at a time. In a call whose submissions or votes are for verified residents,
the hash (with the account's `holder`, see the models) is written once per call and part, so a
resident who deletes the account and comes back with the same identity cannot take part again.

A resident with accounts at two different providers has two hashes: the platform keeps no
identifier common to providers (a national register number), by design.
"""

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit, authz
from app.account.models import User
from app.authz import Taking
from app.call.models import Call
from app.clock import utcnow
from app.db import get_or_not_found
from app.errors import Conflict, ValidationFailed
from app.i18n import CITY_TZ, N_
from app.residents.models import Access, Part, ResidentParticipation, ResidentVerification, VerificationRule
from app.settings import Settings

PURPOSE = b"reinventons resident identity v1"
MAX_POSTAL_CODES = 500
POSTAL_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,9}")
CLAIM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}(\.[A-Za-z_][A-Za-z0-9_]{0,40}){0,3}")
MAX_AGE = 120

RESIDENT_TAKEN = N_("Your {provider} identity already verifies another account here: one resident verifies "
                    "one account. Log in with that account, or delete it first.")
ALREADY_VOTED = N_("You already supported ideas in this call with another account: a resident supports ideas "
                   "with one account only, even after deleting it.")
ALREADY_SUBMITTED = N_("You already proposed ideas in this call with another account: a resident proposes ideas "
                       "with one account only, even after deleting it.")
NOT_RESIDENT_MISSING = N_("{provider} did not share your postal code or birth date with us, so you could not be "
                          "verified as a resident. Allow it at {provider} and try again.")
NOT_RESIDENT_OUTSIDE = N_("According to {provider}, your address is not in the city: only its residents can be "
                          "verified.")
NOT_RESIDENT_YOUNG = N_("According to {provider}, you are younger than {age}, the minimum age to take part as a "
                        "verified resident.")
VERIFIED = N_("You are now a verified resident.")


class Outcome(StrEnum):
    """How one rule judged a person's claims."""

    passed = "passed"
    missing = "missing"  # a claim the rule needs is absent or unreadable
    outside = "outside"  # the postal code is not one of the rule's
    young = "young"  # younger than the rule's minimum age


# Reading and judging claims ----------------------------------------------------------------------

def claim_value(claims: dict[str, Any], name: str) -> Any:
    """The value at `name` in `claims`, a dotted path into JSON objects (`address.postal_code`:
    the standard address claim is an object, OpenID Connect Core 5.1.1); None when absent.
    A JSON object given as a string (some providers do) is read too."""
    value: Any = claims
    for part in name.split("."):
        if isinstance(value, str) and value.startswith("{"):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def age_on(birthdate: Any, today: date) -> int | None:
    """Whole years from `birthdate` to `today`; None when it cannot be read. OpenID Connect Core
    5.1 gives `birthdate` as ISO 8601 YYYY-MM-DD, or YYYY alone (then the person is counted as
    born on 31 December, never older than they may be); "0000-MM-DD" (year withheld) is None."""
    if not isinstance(birthdate, str):
        return None
    text = birthdate.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            born = date(int(text), 12, 31)
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            born = date.fromisoformat(text)
        else:
            return None
    except ValueError:
        return None
    if born.year == 0 or born > today:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


# Age bands for the council's figures (app.council.figures), as Belgian statistics (Statbel)
# group adults, with the young who may take part in a call open from 16 apart. Only the band is
# kept, never the birthdate, and only when the provider's claims give one.
AGE_BANDS = ("under_18", "18_24", "25_34", "35_49", "50_64", "65_plus")
_BAND_STARTS = ((65, "65_plus"), (50, "50_64"), (35, "35_49"), (25, "25_34"), (18, "18_24"), (0, "under_18"))


def age_band(age: int | None) -> str | None:
    """The band (one of `AGE_BANDS`) of `age` whole years; None for None."""
    if age is None:
        return None
    return next(band for start, band in _BAND_STARTS if age >= start)


def codes_of(rule: VerificationRule) -> set[str]:
    """The rule's postal codes, as a set."""
    return {c for c in rule.postal_codes.split(", ") if c}


def judge(rule: VerificationRule, claims: dict[str, Any], today: date) -> Outcome:
    """Whether `claims` pass `rule` on day `today` (in the city's time zone)."""
    codes = codes_of(rule)
    if codes:
        value = claim_value(claims, rule.postal_code_claim)
        if not isinstance(value, str | int) or isinstance(value, bool):
            return Outcome.missing
        if str(value).strip().upper() not in codes:
            return Outcome.outside
    if rule.min_age is not None:
        age = age_on(claim_value(claims, rule.birthdate_claim), today)
        if age is None:
            return Outcome.missing
        if age < rule.min_age:
            return Outcome.young
    return Outcome.passed


def claim_names(rules: list[VerificationRule]) -> set[str]:
    """The claims (top-level names) these rules read: to know whether the ID token holds them
    or the userinfo endpoint must be asked."""
    names = set()
    for rule in rules:
        if rule.postal_codes:
            names.add(rule.postal_code_claim.split(".")[0])
        if rule.min_age is not None:
            names.add(rule.birthdate_claim.split(".")[0])
    return names


# Rules (administrators) --------------------------------------------------------------------------

@dataclass
class RuleInput:
    """A rule form as typed: `postal_codes` separated by commas, spaces or lines; `min_age` the
    text of a whole number or ""."""

    provider_key: str
    postal_code_claim: str = "address.postal_code"
    postal_codes: str = ""
    birthdate_claim: str = "birthdate"
    min_age: str = ""


def _clean(settings: Settings, data: RuleInput) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    if settings.oidc_provider(data.provider_key) is None:
        errors["provider_key"] = N_("Choose a provider from the list.")
    codes = [c.upper() for c in re.split(r"[\s,;]+", data.postal_codes.strip()) if c]
    if any(not POSTAL_CODE.fullmatch(c) for c in codes) or len(codes) > MAX_POSTAL_CODES:
        errors["postal_codes"] = N_("Enter postal codes separated by commas, such as 4000, 4020, 4030: letters, "
                                    "digits and hyphens, 2 to 10 characters each, at most 500 codes.")
    min_age: int | None = None
    text = data.min_age.strip()
    if text:
        if text.isascii() and text.isdigit() and len(text) < 4 and 1 <= int(text) <= MAX_AGE:
            min_age = int(text)
        else:
            errors["min_age"] = N_("Enter a minimum age in whole years, from 1 to 120, or leave it empty.")
    postal_claim, birth_claim = data.postal_code_claim.strip(), data.birthdate_claim.strip()
    if codes and not CLAIM_NAME.fullmatch(postal_claim):
        errors["postal_code_claim"] = N_("Enter a claim name such as postal_code or address.postal_code.")
    if text and not CLAIM_NAME.fullmatch(birth_claim):
        errors["birthdate_claim"] = N_("Enter a claim name such as birthdate.")
    if not codes and not text and not errors:
        errors["form"] = N_("Give the city's postal codes, a minimum age, or both.")
    values = {"provider_key": data.provider_key, "postal_code_claim": postal_claim[:100],
              "postal_codes": ", ".join(dict.fromkeys(codes)), "birthdate_claim": birth_claim[:100],
              "min_age": min_age}
    return values, errors


def _facts(rule: VerificationRule) -> dict[str, Any]:
    return {"provider": rule.provider_key, "postal_code_claim": rule.postal_code_claim,
            "postal_codes": rule.postal_codes, "birthdate_claim": rule.birthdate_claim, "min_age": rule.min_age}


def save_rule(session: Session, settings: Settings, *, actor: User, data: RuleInput,
              rule: VerificationRule | None = None) -> VerificationRule:
    """Create a rule, or change `rule`, and write it to the audit log (before and after). Not
    committed. Raises ValidationFailed ({field: msgid}) and changes nothing when the input is bad:
    an unknown provider, a malformed postal code list or claim name, an age outside 1-120, or
    neither condition given."""
    values, errors = _clean(settings, data)
    if errors:
        raise ValidationFailed(errors)
    before = _facts(rule) if rule is not None else None
    if rule is None:
        rule = VerificationRule(**values)
    else:
        for name, value in values.items():
            setattr(rule, name, value)
        rule.updated_at = utcnow()
    session.add(rule)
    session.flush()
    assert rule.id is not None
    audit.record(session, actor=actor, action=audit.AuditAction.residency_rule_save,
                 target_type=audit.TargetType.residency_rule, target_id=rule.id,
                 details={"before": before, "after": _facts(rule)})
    return rule


def delete_rule(session: Session, *, actor: User, rule: VerificationRule) -> int:
    """Delete `rule` and the verifications it granted (those people are residents no more until
    they pass another rule); audit-logged. Returns how many verifications went. Not committed."""
    assert rule.id is not None
    withdrawn = verifications_by_rule(session).get(rule.id, 0)
    audit.record(session, actor=actor, action=audit.AuditAction.residency_rule_delete,
                 target_type=audit.TargetType.residency_rule, target_id=rule.id,
                 details={"before": _facts(rule), "verifications_withdrawn": withdrawn})
    session.delete(rule)
    session.flush()
    return withdrawn


def get_rule(session: Session, rule_id: int) -> VerificationRule:
    """The rule `rule_id`. Raises NotFound."""
    return get_or_not_found(session, VerificationRule, rule_id)


def rules(session: Session, provider_key: str | None = None) -> list[VerificationRule]:
    """Every rule (of one provider when `provider_key` is given), by provider then age."""
    query = select(VerificationRule).order_by(col(VerificationRule.provider_key), col(VerificationRule.id))
    if provider_key is not None:
        query = query.where(VerificationRule.provider_key == provider_key)
    return list(session.exec(query).all())


def verifications_by_rule(session: Session) -> dict[int, int]:
    """How many accounts each rule verifies now ({rule id: count})."""
    rows = session.exec(select(ResidentVerification.rule_id, func.count())
                        .group_by(col(ResidentVerification.rule_id))).all()
    return {int(rule_id): int(n) for rule_id, n in rows}


def verifying_providers(session: Session, settings: Settings) -> list[str]:
    """The display names of the configured providers that have at least one rule: those with
    which a person can get verified."""
    keys = set(session.exec(select(VerificationRule.provider_key).distinct()).all())
    return [p.name for p in settings.oidc_providers if p.key in keys]


def verifying_provider_keys(session: Session, settings: Settings) -> list[str]:
    """The keys of the configured providers that have at least one rule."""
    keys = set(session.exec(select(VerificationRule.provider_key).distinct()).all())
    return [p.key for p in settings.oidc_providers if p.key in keys]


# Verifications -----------------------------------------------------------------------------------

def resident_hash(settings: Settings, issuer: str, subject: str) -> str:
    """The keyed hash (HMAC-SHA256, hex, 64 characters) of a provider's identity: the key is
    derived from the platform's secret with HKDF-SHA256 and a purpose of its own; (issuer,
    subject) are encoded as a JSON array, so that no two pairs share one input."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        settings.resolved_secret_key.encode())
    return hmac.new(key, json.dumps([issuer, subject]).encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Result:
    """What `verify` did: `outcome` (None when the provider has no rule), and for a refusal
    the msgid and parameters of the message to show."""

    outcome: Outcome | None
    message: str = ""
    params: dict[str, Any] | None = None

    @property
    def verified(self) -> bool:
        return self.outcome == Outcome.passed


def verification_of(session: Session, user_id: int) -> ResidentVerification | None:
    """The account's verification, or None."""
    return session.exec(select(ResidentVerification).where(ResidentVerification.user_id == user_id)).first()


def is_resident(session: Session, user: User | None) -> bool:
    """Whether `user` is a verified resident now (False for a visitor)."""
    return user is not None and user.id is not None and verification_of(session, user.id) is not None


def residents_among(session: Session, user_ids: list[int]) -> set[int]:
    """Of these accounts, the verified residents (one query for a list)."""
    if not user_ids:
        return set()
    return set(session.exec(select(ResidentVerification.user_id)
                            .where(col(ResidentVerification.user_id).in_(user_ids))).all())


def verify(session: Session, settings: Settings, user: User, *, provider_key: str, provider_name: str,
           issuer: str, subject: str, claims: dict[str, Any]) -> Result:
    """Judge `claims` (from a checked ID token, and the userinfo endpoint) by the rules of the
    provider the person just signed in with; when one passes, record or refresh the account's
    verification. Not committed. Raises Conflict (RESIDENT_TAKEN, with `provider`) when this
    identity already verifies another account. A failing rule changes nothing: an existing
    verification stays (it is a fact at a moment, as a postal code was)."""
    assert user.id is not None
    provider_rules = rules(session, provider_key)
    if not provider_rules:
        return Result(None)
    today = utcnow().astimezone(CITY_TZ).date()
    outcomes = [(rule, judge(rule, claims, today)) for rule in provider_rules]
    passed = next((rule for rule, outcome in outcomes if outcome == Outcome.passed), None)
    if passed is None:
        rule, outcome = outcomes[0]
        message = {Outcome.missing: NOT_RESIDENT_MISSING, Outcome.outside: NOT_RESIDENT_OUTSIDE,
                   Outcome.young: NOT_RESIDENT_YOUNG}[outcome]
        return Result(outcome, message, {"provider": provider_name, "age": rule.min_age})
    assert passed.id is not None
    digest = resident_hash(settings, issuer, subject)
    other = session.exec(select(ResidentVerification).where(ResidentVerification.resident_hash == digest,
                                                            ResidentVerification.user_id != user.id)).first()
    if other is not None:
        raise Conflict(RESIDENT_TAKEN, provider=provider_name)
    mine = verification_of(session, user.id)
    if mine is None:
        mine = ResidentVerification(user_id=user.id, rule_id=passed.id, resident_hash=digest,
                                    holder=secrets.token_hex(16))
    mine.rule_id, mine.resident_hash, mine.verified_at = passed.id, digest, utcnow()
    # Refreshed at each verification: a band is a fact at a moment, as the postal code is.
    mine.age_band = age_band(age_on(claim_value(claims, passed.birthdate_claim or "birthdate"), today))
    session.add(mine)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the same identity verified another account at the same moment
        raise Conflict(RESIDENT_TAKEN, provider=provider_name) from exc
    return Result(Outcome.passed, VERIFIED, {})


# Taking part in a call ---------------------------------------------------------------------------

def access(call: Call, part: Part) -> Access:
    """Who may do `part` in `call`."""
    value = call.vote_access if part == Part.vote else call.submit_access
    return Access(value) if value in set(Access) else Access.email


def take_part(session: Session, *, user: User, call: Call, part: Part) -> None:
    """Before a resident submits an idea or supports one in a call that requires verified
    residents for it: record the resident's hash for (call, part), or check that the record there
    is this account's. Does nothing in a call open to any confirmed e-mail address. The caller has
    checked the call's access (app.authz, Action.call_take_part). Not committed (the record goes
    with the vote or idea, or with its refusal). Raises Conflict (ALREADY_VOTED,
    ALREADY_SUBMITTED) when another account of the same resident took part there."""
    if access(call, part) != Access.residents:
        return
    assert user.id is not None and call.id is not None
    mine = verification_of(session, user.id)
    if mine is None:  # authz let a non-resident through: refuse rather than count them
        raise Conflict(ALREADY_VOTED if part == Part.vote else ALREADY_SUBMITTED)

    def recorded() -> ResidentParticipation | None:
        return session.exec(select(ResidentParticipation).where(
            ResidentParticipation.call_id == call.id, ResidentParticipation.part == part,
            ResidentParticipation.resident_hash == mine.resident_hash)).first()

    row = recorded()
    if row is None:
        try:
            with session.begin_nested():
                session.add(ResidentParticipation(call_id=call.id, part=part, resident_hash=mine.resident_hash,
                                                  holder=mine.holder))
                session.flush()
            return
        except IntegrityError:  # a twin request recorded it first
            row = recorded()
    if row is not None and row.holder != mine.holder:
        raise Conflict(ALREADY_VOTED if part == Part.vote else ALREADY_SUBMITTED)


def taking(session: Session, user: User | None, call: Call, part: Part) -> Taking:
    """What app.authz needs to judge `user` taking part in `call` (Action.call_take_part): the
    residency is looked up only when the call requires it."""
    needed = access(call, part) == Access.residents
    return Taking(call=call, part=part, resident=needed and is_resident(session, user))


def may_take_part(session: Session, user: User | None, call: Call, part: Part) -> bool:
    """For pages: whether `user` may do `part` in `call` by the call's access rule."""
    return authz.can(user, authz.Action.call_take_part, taking(session, user, call, part))


def call_access(session: Session, settings: Settings, call: Call, user: User | None) -> dict[str, Any]:
    """What the call page says about who may take part: `submit` and `vote` (Access values),
    `residents_only` (whether either is for verified residents), `resident` (whether `user` is
    one; False for a visitor) and `providers` (display names of the providers that verify)."""
    submit, vote = access(call, Part.submit), access(call, Part.vote)
    residents_only = Access.residents in (submit, vote)
    return {"submit": str(submit), "vote": str(vote), "residents_only": residents_only,
            "resident": residents_only and is_resident(session, user),
            "providers": verifying_providers(session, settings) if residents_only else []}


def account_status(session: Session, settings: Settings, user: User) -> dict[str, Any]:
    """The "verified resident" section of the account page: `verified_at` (None when not
    verified), `provider` (display name of the provider whose rule passed, or ""), `providers`
    (key, name) of the providers that verify, with which the person can ask "verify me"."""
    assert user.id is not None
    mine = verification_of(session, user.id)
    rule = session.get(VerificationRule, mine.rule_id) if mine is not None else None
    names = {p.key: p.name for p in settings.oidc_providers}
    return {"verified_at": mine.verified_at if mine is not None else None,
            "provider": names.get(rule.provider_key, rule.provider_key) if rule is not None else "",
            "providers": [(key, names[key]) for key in verifying_provider_keys(session, settings)]}

"""Verified residents (issue 13), against two real OpenID providers (oidc-provider on loopback,
tests/support_oidc.py): "Test ID" gives addresses and birth dates, "Mail ID" only e-mail
addresses. Rules set by an administrator, verification at sign-in and at linking ("verify me"),
calls keeping votes or ideas for verified residents, one resident one account, no second vote
after deleting the account, the moderators' badge, and the rules page's refusals."""

import html
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from app import cookies
from app.account import privacy
from app.account.models import Role, User, UserIdentity
from app.audit import AuditEntry
from app.call.models import Call
from app.idea.models import Idea
from app.main import create_app
from app.residents import service
from app.residents.models import ResidentParticipation, ResidentVerification, VerificationRule
from app.vote.models import Vote
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient, make_settings
from tests.support_oidc import (
    INFO_KEY,
    KEY,
    MAIL_KEY,
    Provider,
    oidc_email_only,  # noqa: F401
    oidc_provider,  # noqa: F401
    oidc_userinfo_only,  # noqa: F401
    sign_in_at_provider,
)

JSON = {"Accept": "application/json"}
CITY = "4000, 4020, 4030"
RESIDENTS_ONLY_VOTE = ("Only verified residents of the city may support ideas in this call. To get verified, open "
                       "your account page and verify that you live here with the city's sign-in service.")


def browser(app: Any) -> WebClient:
    web = WebClient(app, base_url="http://testserver")
    web.cookies.set(cookies.LANGUAGE.base, "en")  # messages as their msgids
    return web


@pytest.fixture
def web(tmp_path: Path, database_url: str, oidc_provider: Provider,  # noqa: F811
        oidc_email_only: Provider) -> Iterator[WebClient]:  # noqa: F811
    settings = make_settings(tmp_path / "var", database_url,
                             oidc_providers=[oidc_provider.setting(), oidc_email_only.setting()])
    with browser(create_app(settings)) as client:
        yield client


def text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def land(web: WebClient, response: httpx.Response) -> str:
    """The page the browser lands on after a redirect, with its flash messages."""
    assert response.status_code == 303, response.text
    return text(web.get(response.headers["location"]))


def journey(web: WebClient, path: str, login: str) -> httpx.Response:
    """Press a provider button (`path`), sign in there as `login`, come back: the callback's answer."""
    started = web.submit(path)
    assert started.status_code == 303, started.text
    back = sign_in_at_provider(started.headers["location"], login)
    return web.get(back.removeprefix("http://testserver"), follow_redirects=False)


def sign_in(web: WebClient, login: str, key: str = KEY) -> str:
    return land(web, journey(web, f"/account/oidc/{key}/start", login))


def link(web: WebClient, login: str, key: str = KEY) -> str:
    """The account page's "Link" or "Verify me" button: the page the person lands on."""
    return land(web, journey(web, f"/account/oidc/{key}/link", login))


def add_rule(session: Session, web: WebClient, *, key: str = KEY, codes: str = CITY, min_age: str = "",
             claim: str = "address.postal_code") -> VerificationRule:
    admin = make_user(session, role=Role.admin)
    rule = service.save_rule(session, web.settings, actor=admin, data=service.RuleInput(
        provider_key=key, postal_codes=codes, postal_code_claim=claim, min_age=min_age))
    session.commit()
    return rule


def residents_call(session: Session, **fields: Any) -> Call:
    call = make_call(session, phase="voting", vote_access="residents", **fields)
    session.commit()
    return call


def the_user(session: Session, email: str) -> User:
    session.expire_all()
    return session.exec(select(User).where(User.email == email)).one()


def verifications(session: Session) -> list[ResidentVerification]:
    session.expire_all()
    return list(session.exec(select(ResidentVerification)).all())


def vote_count(session: Session, idea_id: int) -> int:
    session.expire_all()
    return len(session.exec(select(Vote).where(Vote.idea_id == idea_id)).all())


def test_a_resident_by_postal_code_votes_and_a_non_resident_is_told_how_to_get_verified(
        web: WebClient, session: Session) -> None:
    add_rule(session, web)
    call = residents_call(session)
    idea = make_idea(session, call)
    session.commit()

    # The call page says who may take part and how to get verified.
    page = text(web.get(f"/calls/{call.slug}"))
    assert "Supporting ideas: verified residents of the city only, one account per resident." in page
    assert "Proposing ideas: anyone with an account whose e-mail address is confirmed." in page
    rules = page.split("The rules of this call")[1]
    assert "How to get verified: sign in with Test ID" in page and "Mail ID" not in rules

    assert "You are now a verified resident." in sign_in(web, "alice")
    alice = the_user(session, "alice@example.org")
    [verification] = verifications(session)
    assert verification.user_id == alice.id
    assert "4000" not in verification.resident_hash and len(verification.resident_hash) == 64
    assert "You are a verified resident: you may take part." in text(web.get(f"/calls/{call.slug}"))
    assert web.submit(f"/ideas/{idea.id}/vote").status_code == 303
    assert vote_count(session, idea.id) == 1

    web.submit("/account/logout")
    page = sign_in(web, "david")  # lives in Brussels: signed in, not verified, nothing to nag about
    assert "Welcome, David Peeters!" in page and "verified resident" not in page.split("<main")[1].split("</h1>")[0]
    assert len(verifications(session)) == 1
    panel = text(web.get(f"/ideas/{idea.id}"))
    assert "Only verified residents of the city may support ideas in this call." in panel
    assert f'action="/ideas/{idea.id}/vote"' not in panel
    refused = web.submit(f"/ideas/{idea.id}/vote")
    assert refused.status_code == 403 and RESIDENTS_ONLY_VOTE in text(refused)
    scripted = web.submit(f"/ideas/{idea.id}/vote", headers=JSON)
    assert scripted.status_code == 403 and scripted.json()["error"] == RESIDENTS_ONLY_VOTE
    assert vote_count(session, idea.id) == 1

    # "Verify me" goes through the provider again, and says why not.
    assert "According to Test ID, your address is not in the city" in link(web, "david")
    assert len(verifications(session)) == 1


def test_a_provider_that_gives_no_address_verifies_nobody(web: WebClient, session: Session) -> None:
    add_rule(session, web, key=MAIL_KEY)
    call = residents_call(session)
    idea = make_idea(session, call)
    session.commit()
    assert "Welcome" in sign_in(web, "alice", MAIL_KEY)
    assert verifications(session) == []
    account = text(web.get("/account"))
    assert "Verify me with Mail ID" in account and f'action="/account/oidc/{MAIL_KEY}/link"' in account
    page = link(web, "alice", MAIL_KEY)
    assert "Mail ID did not share your postal code or birth date with us" in page
    assert web.submit(f"/ideas/{idea.id}/vote").status_code == 403
    assert vote_count(session, idea.id) == 0 and verifications(session) == []


def test_one_resident_cannot_verify_two_accounts(web: WebClient, session: Session) -> None:
    add_rule(session, web)
    first, second = make_user(session), make_user(session)
    session.commit()
    web.login_as(first)
    assert "You are now a verified resident." in link(web, "alice")
    identity = session.exec(select(UserIdentity)).one()
    assert web.submit(f"/account/oidc/identities/{identity.id}/unlink").status_code == 303

    web.submit("/account/logout")
    web.login_as(second)
    page = link(web, "alice")
    assert ("Your Test ID identity already verifies another account here: one resident verifies one account."
            in page)
    assert "You are now a verified resident." not in page
    assert [v.user_id for v in verifications(session)] == [first.id]
    # Verifying again the account it verifies is fine (the identity unlinked from the second).
    identity = session.exec(select(UserIdentity)).one()
    assert web.submit(f"/account/oidc/identities/{identity.id}/unlink").status_code == 303
    web.submit("/account/logout")
    web.login_as(first)
    assert "You are now a verified resident." in link(web, "alice")
    assert [v.user_id for v in verifications(session)] == [first.id]


def test_deleting_the_account_does_not_give_a_second_vote_in_the_same_call(web: WebClient,
                                                                           session: Session) -> None:
    add_rule(session, web)
    call = residents_call(session)
    other_call = residents_call(session)
    first_idea, second_idea = make_idea(session, call), make_idea(session, call)
    elsewhere = make_idea(session, other_call)
    session.commit()
    sign_in(web, "alice")
    assert web.submit(f"/ideas/{first_idea.id}/vote").status_code == 303
    first = the_user(session, "alice@example.org")

    # Deleted, through the provider (the account has no password).
    started = web.submit(f"/account/oidc/{KEY}/delete")
    back = sign_in_at_provider(started.headers["location"], "alice")
    assert "Your account is deleted." in land(web, web.get(back.removeprefix("http://testserver"),
                                                            follow_redirects=False))
    assert verifications(session) == []  # the verification went with the account
    [kept] = session.exec(select(ResidentParticipation)).all()
    assert (kept.call_id, kept.part) == (call.id, "vote")  # a hash, a call: nobody's name

    # The same identity comes back: a new account, verified again (the hash is free)...
    assert "You are now a verified resident." in sign_in(web, "alice")
    second = the_user(session, "alice@example.org")
    assert second.id != first.id and [v.user_id for v in verifications(session)] == [second.id]
    # ...which cannot vote again in that call,
    refused = web.submit(f"/ideas/{second_idea.id}/vote")
    assert refused.status_code == 303
    assert "You already supported ideas in this call with another account" in land(web, refused)
    scripted = web.submit(f"/ideas/{second_idea.id}/vote", headers=JSON)
    assert scripted.status_code == 409 and "with another account" in scripted.json()["error"]
    assert vote_count(session, second_idea.id) == 0
    # but takes part in another call.
    assert web.submit(f"/ideas/{elsewhere.id}/vote").status_code == 303
    assert vote_count(session, elsewhere.id) == 1


def test_deleting_the_account_does_not_give_more_ideas_in_the_same_call(web: WebClient, session: Session) -> None:
    add_rule(session, web)
    call = make_call(session, phase="submissions", submit_access="residents")
    session.commit()
    idea = {"title": "Des bancs place du Marché", "action": "submit",
            "body_md": "Des bancs à l'ombre pour les personnes âgées du quartier."}
    sign_in(web, "alice")
    assert web.submit(f"/calls/{call.slug}/ideas/new", idea).status_code == 303
    started = web.submit(f"/account/oidc/{KEY}/delete")
    back = sign_in_at_provider(started.headers["location"], "alice")
    land(web, web.get(back.removeprefix("http://testserver"), follow_redirects=False))
    assert "You are now a verified resident." in sign_in(web, "alice")
    refused = web.submit(f"/calls/{call.slug}/ideas/new", {**idea, "title": "Un potager partagé"})
    assert refused.status_code == 422
    assert "You already proposed ideas in this call with another account" in text(refused)
    session.expire_all()
    assert session.exec(select(Idea).where(Idea.title == "Un potager partagé")).first() is None


def test_the_sign_in_buttons_may_lead_to_the_providers(web: WebClient, oidc_provider: Provider,  # noqa: F811
                                                       oidc_email_only: Provider) -> None:  # noqa: F811
    """The start button POSTs here and is answered with a redirect to the provider, which
    browsers check against the page's form-action (the e2e journey signs in for real)."""
    policy = web.get("/account/login").headers["content-security-policy"]
    form_action = next(d for d in policy.split("; ") if d.startswith("form-action "))
    assert form_action.split()[1:] == ["'self'", oidc_provider.issuer, oidc_email_only.issuer]


def test_a_minor_is_refused_when_a_minimum_age_is_set(web: WebClient, session: Session) -> None:
    add_rule(session, web, min_age="16")
    call = residents_call(session)
    idea = make_idea(session, call)
    session.commit()
    sign_in(web, "chloe")  # lives in 4020, born in 2015
    assert verifications(session) == []
    assert "According to Test ID, you are younger than 16" in link(web, "chloe")
    assert web.submit(f"/ideas/{idea.id}/vote").status_code == 403
    assert vote_count(session, idea.id) == 0
    web.submit("/account/logout")
    assert "You are now a verified resident." in sign_in(web, "alice")  # born in 1985, lives in 4000
    assert web.submit(f"/ideas/{idea.id}/vote").status_code == 303

    # Deleting the rule withdraws the verifications it granted (the vote given stays).
    admin = make_user(session, role=Role.admin)
    session.commit()
    web.submit("/account/logout")
    web.login_as(admin)
    deleted = web.submit(f"/admin/residents/{service.rules(session)[0].id}", {"delete": "1"})
    assert "Verifications withdrawn with it: 1." in land(web, deleted)
    assert verifications(session) == [] and vote_count(session, idea.id) == 1


def test_ideas_kept_for_residents_and_the_moderators_badge(web: WebClient, session: Session) -> None:
    add_rule(session, web)
    call = make_call(session, phase="submissions", submit_access="residents")
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    sign_in(web, "david")
    refused = web.get(f"/calls/{call.slug}/ideas/new")
    assert refused.status_code == 403 and "Only verified residents of the city may propose ideas" in text(refused)
    refused = web.submit(f"/calls/{call.slug}/ideas/new", {"title": "Des bancs", "body_md": "x" * 60})
    assert refused.status_code == 403
    david = the_user(session, "david@example.org")
    web.submit("/account/logout")

    sign_in(web, "alice")
    assert web.get(f"/calls/{call.slug}/ideas/new").status_code == 200
    created = web.submit(f"/calls/{call.slug}/ideas/new", {
        "title": "Des bancs place du Marché", "body_md": "Des bancs à l'ombre pour les personnes âgées du quartier.",
        "action": "submit"})
    assert created.status_code == 303, text(created)
    alice = the_user(session, "alice@example.org")
    resident_idea = make_idea(session, call, alice, status="submitted")
    other_idea = make_idea(session, call, david, status="submitted")
    session.commit()
    assert session.exec(select(ResidentParticipation)).one().part == "submit"

    web.submit("/account/logout")
    web.login_as(moderator)
    page = text(web.get(f"/moderation/ideas/{resident_idea.id}"))
    assert 'class="badge badge-resident">Verified resident' in page
    for private in ("4000", "1985", "Liège", "address", "postal", verifications(session)[0].resident_hash):
        assert private not in page
    assert "badge-resident" not in text(web.get(f"/moderation/ideas/{other_idea.id}"))


def test_the_rules_page_refuses_bad_input_and_changes_nothing(web: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    citizen, moderator = make_user(session), make_user(session, role=Role.moderator)
    session.commit()
    web.login_as(admin)
    page = text(web.get("/admin/residents"))
    assert "Add a rule" in page and '<option value="test"' in page and '<option value="mail"' in page
    assert "Verified residents" in text(web.get("/admin"))

    def entries() -> int:
        session.expire_all()
        return len(session.exec(select(AuditEntry)).all())

    good = {"provider_key": KEY, "postal_codes": "4000, 4020", "postal_code_claim": "address.postal_code",
            "min_age": "", "birthdate_claim": "birthdate"}
    for bad, message in (
            ({"postal_codes": "4000, 40!0"}, "Enter postal codes separated by commas, such as 4000, 4020, 4030"),
            ({"postal_codes": "4000;" + "9" * 11}, "Enter postal codes separated by commas"),
            ({"min_age": "-3"}, "Enter a minimum age in whole years, from 1 to 120"),
            ({"min_age": "200"}, "Enter a minimum age in whole years, from 1 to 120"),
            ({"postal_codes": "", "min_age": ""}, "Give the city's postal codes, a minimum age, or both."),
            ({"provider_key": "nowhere"}, "Choose a provider from the list."),
            ({"postal_code_claim": "address..postal"}, "Enter a claim name such as postal_code")):
        response = web.submit("/admin/residents", {**good, **bad})
        assert response.status_code == 422 and message in text(response), bad
    assert service.rules(session) == [] and entries() == 0

    assert web.submit("/admin/residents", {**good, "min_age": "16"}).status_code == 303
    [rule] = service.rules(session)
    assert (rule.postal_codes, rule.min_age) == ("4000, 4020", 16)
    assert entries() == 1
    bad_edit = web.submit(f"/admin/residents/{rule.id}", {**good, "min_age": "-1"})
    assert bad_edit.status_code == 422 and "from 1 to 120" in text(bad_edit)
    session.expire_all()
    assert service.get_rule(session, rule.id).min_age == 16 and entries() == 1
    assert web.submit(f"/admin/residents/{rule.id}", {**good, "postal_codes": "4000 4030"}).status_code == 303
    session.expire_all()
    assert service.get_rule(session, rule.id).postal_codes == "4000, 4030"
    entry = session.exec(select(AuditEntry).order_by(AuditEntry.id.desc())).first()  # type: ignore[union-attr]
    assert entry is not None and entry.action == "residency_rule_save" and entry.actor_id == admin.id
    assert entry.details["before"]["postal_codes"] == "4000, 4020"

    # The form without its CSRF token changes nothing.
    forged = web.post(f"/admin/residents/{rule.id}", data={**good, "delete": "1"}, follow_redirects=False)
    assert forged.status_code == 403 and len(service.rules(session)) == 1
    forged = web.post("/admin/residents", data=good, follow_redirects=False)
    assert forged.status_code == 403 and len(service.rules(session)) == 1

    for person in (citizen, moderator):
        web.submit("/account/logout")
        web.login_as(person)
        assert web.get("/admin/residents").status_code == 403
        assert web.submit("/admin/residents", good).status_code == 403
        assert web.submit(f"/admin/residents/{rule.id}", {**good, "delete": "1"}).status_code == 403
    assert len(service.rules(session)) == 1

    web.submit("/account/logout")
    web.login_as(admin)
    deleted = web.submit(f"/admin/residents/{rule.id}", {"delete": "1"})
    assert "The rule is deleted. Verifications withdrawn with it: 0." in land(web, deleted)
    assert service.rules(session) == [] and entries() == 3


def test_the_call_form_sets_who_may_take_part(web: WebClient, session: Session) -> None:
    admin = make_user(session, role=Role.admin)
    call = make_call(session, phase="voting")
    session.commit()
    web.login_as(admin)
    form = text(web.get(f"/admin/calls/{call.id}"))
    assert "Who may support ideas" in form and "verified residents only" in form
    fields = {"slug": call.slug, "title": call.title, "submissions_start": "2026-01-01T10:00",
              "voting_start": "2026-01-02T10:00", "review_start": "", "results_start": "", "closes_at": "",
              "ideas_per_citizen": "5", "votes_per_citizen": "10", "vote_scope": "call", "report_threshold": "3",
              "submit_access": "email", "vote_access": "residents"}
    assert web.submit(f"/admin/calls/{call.id}", fields).status_code == 303
    session.expire_all()
    saved = session.get(Call, call.id)
    assert saved is not None and (saved.submit_access, saved.vote_access) == ("email", "residents")
    bad = web.submit(f"/admin/calls/{call.id}", {**fields, "vote_access": "everyone"})
    assert bad.status_code == 422 and "Choose who may take part from the list." in text(bad)
    session.expire_all()
    assert session.get(Call, call.id).vote_access == "residents"  # type: ignore[union-attr]


def test_export_names_the_verification_and_deletion_removes_it(web: WebClient, session: Session) -> None:
    add_rule(session, web)
    sign_in(web, "alice")
    alice = the_user(session, "alice@example.org")
    data = privacy.export_data(session, web.settings, alice)
    assert data["resident_verification"]["provider"] == KEY
    assert verifications(session)[0].resident_hash not in str(data)
    assert "4000" not in str(data["resident_verification"])
    # Alice's provider gives her birth date (1985-04-12): the band is kept, the date is not.
    assert data["resident_verification"]["age_band"] == "35_49" and verifications(session)[0].age_band == "35_49"
    assert "1985" not in str(data["resident_verification"])


def test_claims_given_only_at_the_userinfo_endpoint_are_read_there(tmp_path: Path, database_url: str,
                                                                   oidc_userinfo_only: Provider,  # noqa: F811
                                                                   session: Session) -> None:
    settings = make_settings(tmp_path / "info", database_url, oidc_providers=[oidc_userinfo_only.setting()])
    with browser(create_app(settings)) as web:
        add_rule(session, web, key=INFO_KEY, min_age="18")
        person = make_user(session)
        session.commit()
        web.login_as(person)
        assert "You are now a verified resident." in link(web, "alice", INFO_KEY)
        assert [v.user_id for v in verifications(session)] == [person.id]
        assert "According to Info ID, your address is not in the city" in link(web, "david", INFO_KEY)


# The rules' reading of claims --------------------------------------------------------------------

def test_age_bands_start_at_each_bound() -> None:
    assert [service.age_band(age) for age in (None, 0, 17, 18, 24, 25, 34, 35, 49, 50, 64, 65, 120)] == [
        None, "under_18", "under_18", "18_24", "18_24", "25_34", "25_34", "35_49", "35_49", "50_64", "50_64",
        "65_plus", "65_plus"]


def test_claims_are_read_by_dotted_names_and_ages_counted_in_whole_years() -> None:
    claims = {"postal_code": 4020, "address": {"postal_code": "4000"}, "birthdate": "2008-11-30"}
    assert service.claim_value(claims, "address.postal_code") == "4000"
    assert service.claim_value(claims, "postal_code") == 4020
    assert service.claim_value(claims, "address.locality") is None
    assert service.claim_value({"address": '{"postal_code": "4030"}'}, "address.postal_code") == "4030"
    today = date(2026, 11, 29)
    assert service.age_on("2008-11-29", today) == 18 and service.age_on("2008-11-30", today) == 17
    assert service.age_on("2008", today) == 17  # the year alone: counted from 31 December
    assert service.age_on("0000-03-01", today) is None and service.age_on("01/02/2000", today) is None
    assert service.age_on("2030-01-01", today) is None
    rule = VerificationRule(provider_key=KEY, postal_code_claim="postal_code", postal_codes="4000, 4020",
                            birthdate_claim="birthdate", min_age=18)
    assert service.judge(rule, claims, today) == service.Outcome.young
    assert service.judge(rule, {**claims, "birthdate": "1990-01-01"}, today) == service.Outcome.passed
    assert service.judge(rule, {"postal_code": "1000", "birthdate": "1990-01-01"}, today) == service.Outcome.outside
    assert service.judge(rule, {"birthdate": "1990-01-01"}, today) == service.Outcome.missing
    assert service.judge(rule, {"postal_code": True, "birthdate": "1990-01-01"}, today) == service.Outcome.missing

"""Bad input never answers 500: every route of the app, read from the router itself, gets
garbage in each path, query and form parameter, from a citizen, a moderator and an administrator.

Numbers just past what a database column holds matter most: 2**31 overflows PostgreSQL's integer
(every id column), 2**63 overflows SQLite's integers and PostgreSQL's bigint."""

import logging
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from app.announce.models import Announcement, ChannelAccount, Delivery, NetworkReply
from app.assistant.models import AssistantEntry, AssistantQuestion
from app.call.models import Call
from app.clock import utcnow
from app.comment.models import Comment
from app.main import create_app
from app.residents.models import VerificationRule
from app.settings import Settings
from tests.security.helpers import World, make_world, routes_with_params
from tests.support import WebClient

INT32_PAST = str(2**31)  # one past PostgreSQL's integer
INT64_PAST = str(2**63)  # one past SQLite's integer and PostgreSQL's bigint
GARBAGE = ["", "-1", "abc", "99999999999999999999", "\x00", "un texte assez long \x00 pour passer",
           "é" * 300, "<script>alert(1)</script>",
           "2026-13-45T25:61", "²", "--5", INT32_PAST, str(2**31 - 1), f"-{INT32_PAST}", INT64_PAST, str(2**63 - 1)]
PATH_GARBAGE = ["abc", "-1", "99999999999999999999", "-99999999999999999999", INT64_PAST, str(2**63 - 1),
                INT32_PAST, f"-{int(INT32_PAST) + 1}", "%00"]
# Logging out would end the session the walk relies on; it has its own tests.
SKIPPED = {"/account/logout"}


@pytest.fixture
def tolerant_client(settings: Settings) -> Iterator[WebClient]:
    """A client that gets the 500 page like a browser would, instead of the exception."""
    with WebClient(create_app(settings), base_url="http://testserver", raise_server_exceptions=False) as web:
        yield web


def _valid_path_values(world: World) -> dict[str, object]:
    return {"idea_id": world.idea.id, "comment_id": world.comment.id, "call_id": world.call.id,
            "category_id": world.category.id, "district_id": world.district.id, "user_id": world.victim.id,
            "photo_id": 1, "slug": world.call.slug, "variant": "display", "token": "x",
            "key": "test", "identity_id": 1, "kind": "privacy", "lang": "fr", "number": 1, "size": 192,
            # Not the tester's own session (ending it would log the rest of the test out): a 404.
            "session_id": 999_999,
            # An intake that does not exist (a 404 for staff) and a bulk import's file name (app.intake).
            "intake_id": 999_999, "digest": "0" * 64,
            # A named place that does not exist (a 404 for administrators; app.maps).
            "place_id": 999_999}


@pytest.mark.parametrize("role", ["citizen", "moderator", "admin"])
def test_garbage_in_every_parameter_never_answers_500(tolerant_client: WebClient, session: Session,
                                                      role: str, caplog: pytest.LogCaptureFixture) -> None:
    client = tolerant_client
    with client.db.transaction() as s:
        world = make_world(s)
        user = {"citizen": world.citizen, "moderator": world.moderator, "admin": world.admin}[role]
        announcement = Announcement(call_id=world.call.id, event="free", texts={"fr": "Une annonce"})
        s.add(announcement)
        s.flush()
        channel = ChannelAccount(kind="facebook", label="Page", config={"page_id": "1", "language": "fr"})
        s.add(channel)
        s.flush()
        sent = Delivery(announcement_id=announcement.id, channel_id=channel.id, key="k" * 32)
        s.add(sent)
        s.flush()
        reply = NetworkReply(delivery_id=sent.id, channel_id=channel.id, remote_id="1", posted_at=utcnow())
        s.add(reply)
        rule = VerificationRule(provider_key="test", postal_code_claim="postal_code", postal_codes="4000")
        s.add(rule)
        # The assistant's entry and a question of the tester's, waiting for a person (app.assistant).
        entry = AssistantEntry(question="Une question ?", answer_md="Une réponse.", answer_html="<p>Une réponse.</p>")
        question = AssistantQuestion(user_id=user.id, text="Une question ?", outcome="handed", handed_at=utcnow())
        s.add(entry)
        s.add(question)
        s.flush()
        valid = {**_valid_path_values(world), "announcement_id": announcement.id, "channel_id": channel.id,
                 "delivery_id": sent.id, "reply_id": reply.id, "rule_id": rule.id, "entry_id": entry.id,
                 "question_id": question.id}
        s.expunge_all()
    failures: list[str] = []
    routes = [r for r in routes_with_params(client.app) if r.path not in SKIPPED and r.methods & {"GET", "POST"}]
    assert len(routes) > 60

    def send(method: str, path: str, params: list[str], value: str) -> None:
        if method == "GET":
            response = client.get(path, params=dict.fromkeys(params, value), follow_redirects=False)
        else:
            response = client.submit(path, dict.fromkeys(params, value))
        if response.status_code >= 500:
            failures.append(f"{method} {path} {value[:30]!r} -> {response.status_code}")

    with caplog.at_level(logging.CRITICAL, logger="app.errors"):
        for route in routes:
            client.cookies.clear()
            client.login_as(user)
            for method in sorted(route.methods & {"GET", "POST"}):
                params = route.query_params + (route.form_params if method == "POST" else [])
                base = route.path
                for name in route.path_params:
                    base = base.replace("{" + name + "}", str(valid[name]))
                for value in GARBAGE:
                    send(method, base, params, value)
                for name in route.path_params:
                    for value in PATH_GARBAGE:
                        path = route.path.replace("{" + name + "}", value)
                        for other in route.path_params:
                            path = path.replace("{" + other + "}", str(valid[other]))
                        send(method, path, [], "")
        # Numbers too large for a database integer, in the places that parse them by hand.
        for huge in ("99999999999999999999", INT32_PAST, "²"):
            send("GET", f"/ideas/{world.idea.id}/comments/new", ["reply_to"], huge)
            client.submit(f"/ideas/{world.idea.id}/comments", {"body": "Une réponse", "parent_id": huge})
    assert not failures, "\n".join(failures)


def test_a_huge_id_in_the_path_is_a_404(client: WebClient, session: Session) -> None:
    world = make_world(session)
    client.login_as(world.citizen)
    for path in ("/ideas/99999999999999999999", "/api/ideas/9223372036854775808", "/comments/99999999999999999999/edit",
                 "/ideas/1/photos/99999999999999999999/display"):
        assert client.get(path).status_code == 404, path
    assert client.submit("/ideas/99999999999999999999/vote").status_code == 404
    # What is not a number at all stays a malformed request.
    assert client.get("/ideas/abc").status_code == 422


def test_an_id_one_past_the_integer_column_is_a_404_like_the_last_one(client: WebClient, session: Session) -> None:
    """Id columns are PostgreSQL integers: 2**31 used to reach the database and answer 500 there,
    while 2**31 - 1 answered 404. Both name nothing, on every database."""
    world = make_world(session)
    client.login_as(world.moderator)
    for number in (2**31 - 1, 2**31, 2**63 - 1):
        for path in (f"/ideas/{number}", f"/api/ideas/{number}", f"/moderation/ideas/{number}",
                     f"/comments/{number}/edit", f"/ideas/{world.idea.id}/photos/{number}/display"):
            assert client.get(path).status_code == 404, path
        for path in (f"/ideas/{number}/vote", f"/comments/{number}/report", f"/moderation/ideas/{number}/approve"):
            assert client.submit(path, {"reason": "spam"}).status_code == 404, path


def test_numbers_past_a_column_in_forms_and_queries_are_refused_cleanly(client: WebClient, session: Session) -> None:
    world = make_world(session)
    client.login_as(world.admin)
    # A limit of the call form: the form comes back with its message, nothing is saved.
    values = {"slug": "appel-trop", "title": "Un appel trop grand", "summary": "", "description_md": "",
              "phase_override": "", "ideas_per_citizen": str(2**31), "votes_per_citizen": "10", "vote_scope": "call",
              "report_threshold": "3"}
    response = client.submit("/admin/calls/new", values)
    assert response.status_code == 422
    assert "nombre entier entre 1 et 1000" in response.text
    assert session.exec(select(Call).where(Call.slug == "appel-trop")).first() is None
    # Filters and page numbers past a column find nothing or the last page, never an error.
    queue = client.get("/moderation", params={"call": str(2**31), "age": str(2**31 - 1), "page": str(2**63)})
    assert queue.status_code == 200
    assert client.get("/admin/audit", params={"target_id": str(2**31), "page": str(2**63)}).status_code == 200
    listing = client.get(f"/api/calls/{world.call.slug}/ideas", params={"category": str(2**31), "district": str(2**63)})
    assert listing.status_code == 200
    assert listing.json()["total"] >= 1  # an impossible filter is no filter, as for any unknown id


def test_a_reply_to_a_huge_comment_number_is_refused_cleanly(client: WebClient, session: Session) -> None:
    world = make_world(session)
    client.login_as(world.citizen)
    page = client.get(f"/ideas/{world.idea.id}/comments/new", params={"reply_to": "9" * 20})
    assert page.status_code == 200
    response = client.submit(f"/ideas/{world.idea.id}/comments", {"body": "Une réponse", "parent_id": "9" * 20})
    assert response.status_code == 404  # like any comment that does not exist
    assert session.exec(select(Comment).where(Comment.author_id == world.citizen.id)).first() is None


def test_a_nul_character_is_refused_and_nothing_is_written(client: WebClient, session: Session) -> None:
    """PostgreSQL cannot store a NUL character: it is refused up front, on every database."""
    world = make_world(session)
    client.login_as(world.citizen)
    response = client.submit(f"/ideas/{world.idea.id}/comments", {"body": "Bonjour\x00 tout le monde"})
    assert response.status_code == 422
    assert "ne sont pas valides" in response.text  # said in the visitor's language
    assert session.exec(select(Comment).where(Comment.author_id == world.citizen.id)).first() is None
    assert client.get("/calls/appel%00securite").status_code == 422
    assert client.get("/api/calls/appel-securite/ideas", params={"status": "a\x00"}).json()["error"]

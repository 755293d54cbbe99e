"""The Meilisearch backend against a FAKE Meilisearch: no Meilisearch server can be installed on
these machines (no package in PyPI, npm or Debian ships it), so `FakeMeilisearch` is a tiny HTTP
server on 127.0.0.1 answering like Meilisearch's documented API (indexes, settings, documents,
tasks, multi-search) and recording every request. It is a fake, not `respx`: the official
`meilisearch` client speaks HTTP with `requests`, which respx does not intercept, and `responses`
is not installed. It checks what the backend really sends over the network (settings, documents,
filter strings, search payloads, keys) and what people see when Meilisearch is down or slow. The
same contract as the database backends runs against a real Meilisearch in test_contract.py when
REINVENTONS_MEILI_URL is set."""

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlmodel import Session

from app.account.models import Role
from app.clock import utcnow
from app.outbox.models import OutboxMessage, OutboxStatus
from app.search import indexing, text
from app.search.backend import SearchQuery
from app.search.engines import backend_for
from app.search.meili import SETTINGS, IndexingFailed, MeiliBackend, filters
from app.settings import Settings
from tests.factories import make_call, make_category, make_district, make_idea, make_user
from tests.search.test_contract import _indexed
from tests.support import WebClient, free_port, make_settings

MASTER_KEY = "master-key-7c1f0e9a-never-shown"
SEARCH_KEY = "search-key-52b8d3"
INDEX = "ideas_test"
ENQUEUED_AT = "2026-11-29T10:00:00.000000Z"


@dataclass
class Seen:
    method: str
    path: str
    authorization: str
    body: Any


class FakeMeilisearch:
    """A FAKE Meilisearch on 127.0.0.1 (see the module's docstring). Indexing routes answer 202
    with a task, GET /tasks/{uid} answers the task with `task_status`; POST /multi-search answers
    each query with `answer(query)` (by default no hit). `fail_with` answers every request with
    that status; `delay` (seconds) makes every answer late; `raw` answers 200 with that text."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.indexes: set[str] = set()
        self.tasks: dict[int, dict[str, Any]] = {}
        self.task_status = "succeeded"
        self.fail_with: int | None = None
        self.delay = 0.0
        self.raw: str | None = None
        self.answer: Callable[[dict[str, Any]], dict[str, Any]] = lambda query: result(query, [])
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                fake.seen.append(Seen(self.command, self.path, self.headers.get("Authorization", ""), body))
                if fake.delay:
                    time.sleep(fake.delay)
                status, answer = fake.route(self.command, self.path, body)
                data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _task(self, kind: str, index: str) -> tuple[int, dict[str, Any]]:
        uid = len(self.tasks) + 1
        self.tasks[uid] = {"uid": uid, "indexUid": index, "status": self.task_status, "type": kind,
                           "enqueuedAt": ENQUEUED_AT}
        if self.task_status == "failed":
            self.tasks[uid]["error"] = {"message": "Document identifier is invalid.", "code": "invalid_document_id",
                                        "type": "invalid_request", "link": "https://docs.meilisearch.com/errors"}
        return 202, {"taskUid": uid, "indexUid": index, "status": "enqueued", "type": kind, "enqueuedAt": ENQUEUED_AT}

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if self.fail_with:
            return self.fail_with, {"message": "Internal error.", "code": "internal", "type": "internal",
                                    "link": "https://docs.meilisearch.com/errors#internal"}
        if self.raw is not None:
            return 200, self.raw
        parts = path.split("?")[0].strip("/").split("/")
        if method == "POST" and parts == ["multi-search"]:
            return 200, {"results": [self.answer(q) for q in body["queries"]]}
        if method == "GET" and parts[0] == "tasks":
            return 200, self.tasks[int(parts[1])]
        if method == "POST" and parts == ["indexes"]:
            self.indexes.add(body["uid"])
            return self._task("indexCreation", body["uid"])
        if method == "GET" and len(parts) == 2 and parts[0] == "indexes":
            if parts[1] not in self.indexes:
                return 404, {"message": f"Index `{parts[1]}` not found.", "code": "index_not_found",
                             "type": "invalid_request", "link": "https://docs.meilisearch.com/errors#index_not_found"}
            return 200, {"uid": parts[1], "primaryKey": "id"}
        if parts[0] == "indexes" and parts[2:3] == ["settings"]:
            return self._task("settingsUpdate", parts[1])
        if parts[0] == "indexes" and parts[2:] == ["documents"]:
            return self._task("documentDeletion" if method == "DELETE" else "documentAdditionOrUpdate", parts[1])
        if parts[0] == "indexes" and parts[2:] == ["documents", "delete"]:
            return self._task("documentDeletion", parts[1])
        return 404, {"message": "Not found.", "code": "not_found"}

    def requests_to(self, method: str, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(prefix)]

    def searches(self) -> list[list[dict[str, Any]]]:
        return [s.body["queries"] for s in self.requests_to("POST", "/multi-search")]


def result(query: dict[str, Any], hits: list[dict[str, Any]], facets: dict[str, dict[str, int]] | None = None,
           total: int | None = None) -> dict[str, Any]:
    """A search result as Meilisearch answers one query with page/hitsPerPage."""
    total = len(hits) if total is None else total
    per_page = query.get("hitsPerPage", 20) or 1
    return {"indexUid": query["indexUid"], "hits": hits, "query": query["q"], "processingTimeMs": 1,
            "hitsPerPage": query.get("hitsPerPage", 20), "page": query.get("page", 1),
            "totalPages": -(-total // per_page), "totalHits": total,
            "facetDistribution": {a: (facets or {}).get(a, {}) for a in query.get("facets", [])}}


@pytest.fixture
def fake() -> Iterator[FakeMeilisearch]:
    server = FakeMeilisearch()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(autouse=True)
def _settings_sent_again() -> None:
    """Each test starts as a new process would: the index settings not sent yet."""
    MeiliBackend._prepared.clear()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fake: FakeMeilisearch) -> Settings:
    return make_settings(tmp_path / "var", database_url, meili_url=fake.url, meili_master_key=MASTER_KEY,
                         meili_search_key=SEARCH_KEY, meili_index=INDEX)


@pytest.fixture(autouse=True)
def english(client: WebClient) -> None:
    assert client.get("/?lang=en").status_code == 200


def _no_key_anywhere(*texts: str) -> None:
    for value in texts:
        assert MASTER_KEY not in value and SEARCH_KEY not in value


# --- Indexing ---------------------------------------------------------------------------------

def test_a_rebuild_creates_the_index_sends_its_settings_and_documents_with_the_master_key(
        session: Session, settings: Settings, fake: FakeMeilisearch) -> None:
    call = make_call(session)
    mobility = make_category(session, call, name="Mobilité")
    centre = make_district(session, name="Centre")
    idea = make_idea(session, call, title="Pistes <b>cyclables</b>\x02", body="Séparées des **voitures**.",
                     category=mobility, district=centre, vote_count=4, answer_status="accepted")
    make_idea(session, call, title="Brouillon", status="draft")
    assert indexing.rebuild(session, settings) == 1
    session.commit()

    assert [(s.method, s.path) for s in fake.seen if not s.path.startswith("/tasks/")] == [
        ("GET", f"/indexes/{INDEX}"),
        ("POST", "/indexes"),
        ("PATCH", f"/indexes/{INDEX}/settings"),
        ("DELETE", f"/indexes/{INDEX}/documents"),
        ("POST", f"/indexes/{INDEX}/documents?primaryKey=id"),
    ]
    # Every task was waited for, and every request carried the master key, in the header only.
    assert {s.path for s in fake.requests_to("GET", "/tasks/")} == {f"/tasks/{n}" for n in range(1, 5)}
    assert {s.authorization for s in fake.seen} == {f"Bearer {MASTER_KEY}"}
    assert not any(MASTER_KEY in s.path for s in fake.seen)

    assert fake.requests_to("POST", "/indexes")[0].body == {"uid": INDEX, "primaryKey": "id"}
    sent = fake.requests_to("PATCH", f"/indexes/{INDEX}/settings")[0].body
    assert sent == {
        "searchableAttributes": ["title", "body", "category", "district"],
        "filterableAttributes": ["call_id", "category_id", "district_id", "status", "id"],
        "sortableAttributes": ["votes", "created_at", "id"],
        "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness", "created_at:desc"],
        "stopWords": sorted(text.STOP_WORDS),
        "typoTolerance": {"enabled": True},
        "distinctAttribute": "id",
        "pagination": {"maxTotalHits": 10_000},
    } == SETTINGS
    assert {"le", "la", "de", "het", "und", "the"} <= set(sent["stopWords"])  # the lists the database backends use

    assert idea.published_at is not None
    published = idea.published_at.replace(tzinfo=idea.published_at.tzinfo or UTC).timestamp()
    assert fake.requests_to("POST", f"/indexes/{INDEX}/documents")[0].body == [{
        "id": idea.id, "title": "Pistes <b>cyclables</b> ", "body": "Séparées des voitures.",
        "category": "Mobilité", "district": "Centre", "call_id": call.id, "category_id": mobility.id,
        "district_id": centre.id, "status": "accepted", "votes": 4, "created_at": published,
    }]
    assert _indexed(session) == 1  # the database's index too, for the searches it answers


def test_the_worker_indexes_and_removes_through_meilisearch_and_waits_for_each_task(
        client: WebClient, session: Session, fake: FakeMeilisearch) -> None:
    call = make_call(session)
    moderator = make_user(session, role=Role.moderator)
    idea = make_idea(session, call, title="Nichoirs à martinets")
    session.commit()
    client.login_as(moderator)
    assert client.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Publicité"}).status_code == 303
    client.run_worker()
    removal = fake.requests_to("POST", f"/indexes/{INDEX}/documents/delete")
    assert [r.body for r in removal] == [{"filter": f"id IN [{idea.id}]"}]
    assert removal[0].authorization == f"Bearer {MASTER_KEY}"
    assert fake.seen[-1].method == "GET" and fake.seen[-1].path.startswith("/tasks/")  # waited for it

    assert client.submit(f"/moderation/ideas/{idea.id}/restore").status_code == 303
    client.run_worker()
    added = fake.requests_to("POST", f"/indexes/{INDEX}/documents?")
    assert [d["title"] for d in added[-1].body] == ["Nichoirs à martinets"]


def test_a_failed_task_raises_so_the_outbox_tries_again_and_the_database_index_follows(
        client: WebClient, session: Session, settings: Settings, fake: FakeMeilisearch,
        caplog: pytest.LogCaptureFixture) -> None:
    call = make_call(session)
    author = make_user(session)
    session.commit()
    client.login_as(author)
    fake.task_status = "failed"
    with caplog.at_level(logging.INFO):
        assert client.submit(f"/calls/{call.slug}/ideas/new", {
            "title": "Vergers partagés", "body_md": "Des arbres fruitiers dans chaque square.",
            "action": "submit"}).status_code == 303
        client.run_worker()
    session.expire_all()
    pending = [m for m in session.exec(sa.select(OutboxMessage)).scalars() if m.kind == indexing.REINDEX_KIND]  # type: ignore[call-overload]
    assert len(pending) == 1 and pending[0].last_error is not None and pending[0].status == OutboxStatus.pending
    assert pending[0].last_error.startswith("IndexingFailed: Meilisearch task")
    assert "failed: invalid_document_id" in pending[0].last_error
    _no_key_anywhere(pending[0].last_error, caplog.text)
    # The database's index followed all the same: the searches it answers meanwhile find the idea.
    assert _indexed(session) == 1
    fake.fail_with = 503
    assert "<mark>Vergers</mark> partagés" in client.get("/search", params={"q": "vergers"}).text

    fake.task_status = "succeeded"
    fake.fail_with = 500
    MeiliBackend._prepared.clear()
    with pytest.raises(IndexingFailed) as refused:
        indexing.reindex(session, int(pending[0].payload["idea_id"]), settings)
    _no_key_anywhere(str(refused.value))
    assert str(refused.value) == "Meilisearch answered HTTP 500, internal while preparing the index"


# --- Searching --------------------------------------------------------------------------------

def _hit(idea_id: int | None, title: str, body: str = "") -> dict[str, Any]:
    return {"id": idea_id, "title": title, "body": body, "_formatted": {"title": title, "body": body}}


def test_the_search_page_sends_filters_facets_sort_and_page_and_shows_meilisearch_s_hits(
        client: WebClient, session: Session, fake: FakeMeilisearch) -> None:
    call = make_call(session, title="Liège 2030")
    make_call(session, phase="draft")  # its ideas are not searched: its id is in no filter
    nature = make_category(session, call, name="Nature")
    centre = make_district(session, name="Centre")
    first = make_idea(session, call, title="Énergie solaire sur les écoles", category=nature, district=centre,
                      body="Des panneaux sur le toit de chaque école communale.", vote_count=8)
    second = make_idea(session, call, title="Une école à énergie positive", category=nature, vote_count=2)
    session.commit()

    def answer(query: dict[str, Any]) -> dict[str, Any]:
        hits = [_hit(first.id, "\x02Énergie\x03 solaire sur les \x02écoles\x03", "de chaque \x02école\x03"),
                _hit(second.id, "Une \x02école\x03 à \x02énergie\x03 positive")]
        return result(query, hits if query["page"] else [], total=22,
                      facets={"call_id": {str(call.id): 22}, "category_id": {str(nature.id): 21},
                              "district_id": {str(centre.id): 1}, "status": {"unanswered": 20, "accepted": 2}})

    fake.answer = answer
    page = client.get("/search", params={"q": "Énergie de la ÉCOLE", "category": str(nature.id),
                                         "district": str(centre.id), "sort": "supported", "page": "2"})
    assert page.status_code == 200
    [queries] = fake.searches()
    assert queries[0] == {
        "indexUid": INDEX, "q": "energie ecole",
        "filter": [f"call_id IN [{call.id}]", f"category_id = {nature.id}", f"district_id = {centre.id}"],
        "facets": ["call_id", "category_id", "district_id", "status"], "page": 2, "hitsPerPage": 20,
        "attributesToRetrieve": ["id", "title", "body"], "attributesToHighlight": ["title", "body"],
        "highlightPreTag": "\x02", "highlightPostTag": "\x03", "attributesToCrop": ["body"], "cropLength": 40,
        "matchingStrategy": "all", "sort": ["votes:desc", "created_at:desc", "id:desc"],
    }
    # Each chosen filter's facet is counted without it (so every other value stays offered).
    assert queries[1:] == [
        {"indexUid": INDEX, "q": "energie ecole", "matchingStrategy": "all",
         "filter": [f"call_id IN [{call.id}]", f"district_id = {centre.id}"], "facets": ["category_id"],
         "page": 0},
        {"indexUid": INDEX, "q": "energie ecole", "matchingStrategy": "all",
         "filter": [f"call_id IN [{call.id}]", f"category_id = {nature.id}"], "facets": ["district_id"],
         "page": 0},
    ]
    assert {s.authorization for s in fake.requests_to("POST", "/multi-search")} == {f"Bearer {SEARCH_KEY}"}
    assert f'href="/ideas/{first.id}"><mark>Énergie</mark> solaire sur les <mark>écoles</mark></a>' in page.text
    assert "de chaque <mark>école</mark> communale" in page.text
    assert f'href="/ideas/{second.id}">Une <mark>école</mark> à <mark>énergie</mark> positive</a>' in page.text
    assert "22 ideas found" in page.text
    assert f'<option value="{nature.id}" selected lang="fr">Nature (21)</option>' in page.text
    _no_key_anywhere(page.text)


def test_the_status_filter_similar_ideas_and_typo_corrections_marked(
        client: WebClient, session: Session, settings: Settings, fake: FakeMeilisearch) -> None:
    call = make_call(session)
    wanted = make_idea(session, call, title="Pistes cyclables sécurisées rue Léopold")
    hidden = make_idea(session, call, title="Pistes cachées", hidden_at=utcnow())
    session.commit()
    fake.answer = lambda query: result(query, [_hit(hidden.id, "Pistes cachées"),
                                               _hit(wanted.id, "Pistes cyclables sécurisées rue \x02Léopold\x03")])
    page = client.get("/search", params={"q": "Léopod", "status": "accepted"})
    assert page.status_code == 200
    assert fake.searches()[0][0]["filter"] == [f"call_id IN [{call.id}]", 'status = "accepted"']
    assert fake.searches()[0][0]["q"] == "leopod"
    # Meilisearch corrected the typo: the word it matched is marked, the hidden idea never shown.
    assert "Pistes cyclables sécurisées rue <mark>Léopold</mark>" in page.text and "cachées" not in page.text

    # A status that is not one of ours never reaches a filter, whatever the address says.
    client.get("/search", params={"q": "pistes", "status": 'accepted" OR id > 0'})
    assert fake.searches()[-1][0]["filter"] == [f"call_id IN [{call.id}]"]
    assert filters(SearchQuery(text="x", status='accepted" OR id > 0'), [1]) is None
    assert filters(SearchQuery(text="x"), []) is None

    similar = client.get(f"/calls/{call.slug}/similar", params={"title": "Plus de pistes cyclables rue Léopold"})
    assert similar.status_code == 200 and "Pistes cyclables sécurisées rue Léopold" in similar.text
    assert "cachées" not in similar.text
    assert fake.searches()[-1] == [{"indexUid": INDEX, "q": "plus pistes cyclables rue leopold",
                                    "filter": [f"call_id = {call.id}"], "limit": 10,
                                    "attributesToRetrieve": ["id"], "matchingStrategy": "frequency"}]
    backend = backend_for(session, settings)
    assert [i.id for i in backend.similar(session, call.id or 0, "pistes", exclude_id=hidden.id)] == [wanted.id]
    assert fake.searches()[-1][0]["filter"] == [f"call_id = {call.id}", f"id != {hidden.id}"]


def test_without_a_search_key_searches_use_the_master_key_on_the_server_only(
        client: WebClient, session: Session, settings: Settings, fake: FakeMeilisearch) -> None:
    settings.meili_search_key = SecretStr("")
    make_idea(session, make_call(session), title="Banc public")
    session.commit()
    page = client.get("/search", params={"q": "banc"})
    assert page.status_code == 200 and "No idea matches" in page.text
    assert fake.requests_to("POST", "/multi-search")[0].authorization == f"Bearer {MASTER_KEY}"
    _no_key_anywhere(page.text, repr(settings), str(settings.model_dump()))


def test_an_xss_title_is_inert_in_meilisearch_highlights(client: WebClient, session: Session,
                                                          fake: FakeMeilisearch) -> None:
    title = '<script>alert(1)</script> Kiosque <img src=x onerror=alert(2)>'
    idea = make_idea(session, make_call(session), title=title,
                     body='Kiosque <b onmouseover="alert(3)">gras</b> "quoted" & co')
    session.commit()
    # Meilisearch returns the text as indexed, unescaped, with the marks it was asked for; here
    # even marks around markup, and markup in its highlight tags' place.
    fake.answer = lambda query: result(query, [{
        "id": idea.id, "_formatted": {
            "title": "<\x02script\x03>alert(1)</script> \x02Kiosque\x03 \x02<img src=x onerror=alert(2)>\x03",
            "body": "<em>Kiosque</em> <b onmouseover=\"alert(3)\">gras</b>"}}])
    page = client.get("/search", params={"q": "kiosque script"})
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text and "<b onmouseover" not in page.text
    assert "<em>" not in page.text.split('<ol class="search-results">')[1]
    # The words Meilisearch marked are looked for in the idea's own title, which is escaped.
    assert ("&lt;<mark>script</mark>&gt;<mark>alert</mark>(1)&lt;/<mark>script</mark>&gt; <mark>Kiosque</mark> "
            "&lt;<mark>img</mark> <mark>src</mark>=x <mark>onerror</mark>=<mark>alert</mark>(2)&gt;") in page.text
    tags = set(re.findall(r"<(/?[a-z0-9]+)", page.text.split('<ol class="search-results">')[1].split("</ol>")[0]))
    assert tags <= {"li", "/li", "h2", "/h2", "a", "/a", "p", "/p", "mark", "/mark", "span", "/span"}


# --- Falling back to the database -------------------------------------------------------------

@pytest.mark.parametrize("failure", ["refused", "timeout", "500", "not json", "not results", "403"])
def test_when_meilisearch_fails_the_database_answers_and_a_warning_is_logged(
        client: WebClient, session: Session, settings: Settings, fake: FakeMeilisearch,
        caplog: pytest.LogCaptureFixture, failure: str) -> None:
    call = make_call(session)
    make_idea(session, call, title="Pistes cyclables sécurisées rue Léopold")
    make_idea(session, call, title="Plus de bancs")
    session.commit()
    indexing.rebuild(session)  # the database's index only: Meilisearch is about to fail
    session.commit()
    if failure == "refused":
        settings.meili_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    elif failure == "timeout":
        settings.meili_timeout_ms = 300
        fake.delay = 2.0  # well past the 300 ms limit: the warning says the search gave up
    elif failure == "not json":
        fake.raw = "<html>502 Bad Gateway</html>"
    elif failure == "not results":
        fake.raw = '{"results": [1, 2]}'
    else:
        fake.fail_with = int(failure)
    with caplog.at_level(logging.WARNING, logger="app.search.engines"):
        page = client.get("/search", params={"q": "cyclables"})
        similar = client.get(f"/calls/{call.slug}/similar", params={"title": "Des pistes cyclables"})
    assert page.status_code == 200
    assert "<mark>cyclables</mark>" in page.text and "1 idea found" in page.text and "bancs" not in page.text
    assert similar.status_code == 200 and "Pistes cyclables sécurisées rue Léopold" in similar.text
    expected = {"refused": "could not be reached", "timeout": "did not answer within 300 ms",
                "500": "answered HTTP 500", "not json": "gave an unreadable answer",
                "not results": "gave an unreadable answer",
                "403": "answered HTTP 403"}[failure]
    warnings = [r for r in caplog.records if r.name == "app.search.engines" and r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all(expected in r.getMessage() for r in warnings)
    assert f"the {session.get_bind().dialect.name} backend answered the search" in warnings[0].getMessage()
    _no_key_anywhere(caplog.text, page.text, similar.text)


def test_the_reindex_command_rebuilds_meilisearch_s_index(session: Session, database_url: str, tmp_path: Path,
                                                           fake: FakeMeilisearch) -> None:
    from tests.core.test_cli import cli_env, run_cli

    call = make_call(session)
    kept = make_idea(session, call, title="Composteurs de quartier")
    make_idea(session, call, title="Composteurs cachés", status="rejected")
    session.commit()
    env = cli_env(tmp_path, database_url)
    env.update(REINVENTONS_MEILI_URL=fake.url, REINVENTONS_MEILI_MASTER_KEY=MASTER_KEY, REINVENTONS_MEILI_INDEX=INDEX)
    done = run_cli(["reindex"], env)
    assert done.returncode == 0, done.stderr
    assert "Search index (and Meilisearch's) rebuilt: 1 public ideas." in done.stdout
    assert fake.requests_to("PATCH", f"/indexes/{INDEX}/settings")[0].body == SETTINGS
    assert [d["id"] for d in fake.requests_to("POST", f"/indexes/{INDEX}/documents?")[0].body] == [kept.id]
    _no_key_anywhere(done.stdout, done.stderr)
    assert _indexed(session) == 1

"""The page cache (issue 14): anonymous pages served from memory until anything they show is
written through any server process; no logged-in view and no hidden content ever served from it.
The idea cards kept per process for logged-in lists (app.call.cards) follow the same writes."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from app import clock, cookies
from app.account.models import Role
from app.account.sessions import start_session
from app.call.models import Call
from app.main import create_app
from app.security import csrf_token_for
from app.settings import Settings
from tests.factories import make_call, make_category, make_idea, make_user
from tests.support import WebClient, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def other(settings: Settings) -> Iterator[WebClient]:
    """A second server on the same database, with its own cache: what another process is."""
    with WebClient(create_app(settings), base_url="http://testserver") as web:
        yield web


def _cached(web: WebClient, path: str) -> tuple[int, str, str]:
    """(status, what the cache did, page) of an anonymous visitor's GET."""
    answer = web.get(path)
    return answer.status_code, answer.headers.get("x-page-cache", ""), answer.text


def _warm(web: WebClient, path: str) -> str:
    """Visit until the page is served from the cache; returns it."""
    for _ in range(3):
        status, result, text = _cached(web, path)
        if result == "hit":
            return text
    raise AssertionError(f"{path} never served from the cache (last: {status} {result})")


def test_a_page_is_kept_and_served_the_same_until_a_write(client: WebClient, other: WebClient,
                                                          session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call, title="Des bancs sur la place du Marché")
    citizen = make_user(session)
    session.commit()
    first = client.get(f"/calls/{call.slug}")
    assert first.headers["x-page-cache"] == "miss" and "set-cookie" in first.headers  # a first visit, kept
    status, result, text = _cached(client, f"/calls/{call.slug}")
    assert (status, result) == (200, "hit") and "Des bancs sur la place du Marché" in text

    other.login_as(citizen)
    assert other.submit(f"/ideas/{idea.id}/vote").status_code in (200, 303)  # through the other server
    status, result, text = _cached(client, f"/calls/{call.slug}")
    assert result == "miss"  # the vote made every kept page stale


def test_first_visitors_served_from_the_cache_each_get_a_seed_of_their_own(
        client: WebClient, settings: Settings, session: Session) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call, title="Un abri vélo gare des Guillemins")
    citizen = make_user(session)
    session.commit()
    path = f"/calls/{call.slug}"
    client.get(path)  # kept, though it gave this first visitor a seed
    seeds = []
    for _ in range(2):
        client.cookies.clear()  # another first visitor
        answer = client.get(path)
        assert answer.headers["x-page-cache"] == "hit" and "Un abri vélo gare des Guillemins" in answer.text
        seeds.append(client.cookies[cookies.CSRF_SEED.name(settings.is_https)])
    assert seeds[0] != seeds[1] and all(len(seed) == 43 for seed in seeds)
    returning = client.get(path)
    assert returning.headers["x-page-cache"] == "hit" and "set-cookie" not in returning.headers
    # The seed given from the cache signs this visitor's forms like any other.
    client.login_as(citizen)
    assert client.submit(f"/ideas/{idea.id}/follow").status_code in (200, 303)


def test_hidden_content_answers_and_comments_show_at_once_on_the_other_server(
        client: WebClient, other: WebClient, session: Session) -> None:
    call = make_call(session)
    idea = make_idea(session, call, title="Un composteur rue Saint-Gilles")
    shown = make_idea(session, call, title="Une fontaine au parc d’Avroy")
    moderator = make_user(session, role=Role.moderator)
    citizen = make_user(session)
    session.commit()
    other.login_as(citizen)
    _warm(client, f"/ideas/{shown.id}")
    assert other.submit(f"/ideas/{shown.id}/comments", {"body": "Oui, près de la statue de Tchantchès."}
                        ).status_code in (200, 303)
    assert "près de la statue de Tchantchès" in _cached(client, f"/ideas/{shown.id}")[2]

    _warm(client, f"/ideas/{shown.id}")
    other.login_as(moderator)
    assert other.submit(f"/moderation/ideas/{shown.id}/answer", {
        "answer_status": "accepted", "answer_md": "La Ville l’installera au printemps."}).status_code == 303
    assert "La Ville l’installera au printemps." in _cached(client, f"/ideas/{shown.id}")[2]

    assert "Un composteur rue Saint-Gilles" in _warm(client, f"/calls/{call.slug}")
    _warm(client, f"/ideas/{idea.id}")
    assert other.submit(f"/moderation/ideas/{idea.id}/hide", {"reason": "Hors charte"}).status_code == 303
    assert _cached(client, f"/ideas/{idea.id}")[0] == 404
    assert "Un composteur rue Saint-Gilles" not in _cached(client, f"/calls/{call.slug}")[2]


def test_a_phase_change_and_the_clock_make_pages_stale(client: WebClient, other: WebClient,
                                                       session: Session) -> None:
    call = make_call(session, phase="submissions", title="Budget participatif d’Outremeuse")
    session.commit()
    before = _warm(client, f"/calls/{call.slug}")
    with other.db.transaction() as writing:  # the phase closed by the other server's code
        changed = writing.get(Call, call.id)
        assert changed is not None
        changed.phase_override = "closed"
    after = _cached(client, f"/calls/{call.slug}")
    assert after[1] == "miss" and after[2] != before

    _warm(client, f"/calls/{call.slug}")
    with clock.travel(timedelta(seconds=31)):
        assert _cached(client, f"/calls/{call.slug}")[1] == "miss"  # a page lives 30 s at most


def test_a_phase_ending_by_the_clock_makes_pages_stale_at_once(client: WebClient, session: Session) -> None:
    # No write at all: voting ends by its date while the pages showing it are kept.
    call = make_call(session, phase="voting", title="Budget participatif d’Outremeuse")
    call.review_start = clock.utcnow() + timedelta(seconds=10)
    idea = make_idea(session, call, title="Des bancs sur la place du Marché")
    session.commit()
    paths = (f"/calls/{call.slug}", f"/ideas/{idea.id}", "/", "/calls")
    for path in paths:
        _warm(client, path)
    assert "Se connecter pour soutenir des idées" in _cached(client, f"/calls/{call.slug}")[2]
    with clock.travel(timedelta(seconds=11)):  # one second after voting closed
        for path in paths:
            assert _cached(client, path)[1] == "miss", path
        page = _cached(client, f"/calls/{call.slug}")[2]
        assert "Se connecter pour soutenir des idées" not in page and "jours pour voter" not in page


def test_time_left_is_never_served_older_than_it_says(client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    call.review_start = clock.utcnow() + timedelta(days=3, seconds=10)
    session.commit()
    assert "3 jours pour voter" in _warm(client, f"/calls/{call.slug}")
    with clock.travel(timedelta(seconds=11)):  # 2 days, 23 hours and 59 minutes left
        status, result, page = _cached(client, f"/calls/{call.slug}")
        assert result == "miss" and "2 jours pour voter" in page and "3 jours pour voter" not in page


def test_a_logged_in_view_is_never_kept_nor_served(client: WebClient, other: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    make_idea(session, call)
    citizen = make_user(session, display_name="Amandine Lejeune")
    session.commit()
    other.login_as(citizen)
    for _ in range(3):
        answer = other.get(f"/calls/{call.slug}")
        assert answer.headers["x-page-cache"] == "bypass" and "Amandine Lejeune" in answer.text
    anonymous = _warm(client, f"/calls/{call.slug}")
    assert "Amandine Lejeune" not in anonymous
    for path in ("/account", "/moderation", "/static/css/app.css", "/api/calls"):
        assert client.get(path).headers.get("x-page-cache") == "bypass", path


def test_a_session_after_a_cookie_of_another_site_is_still_a_logged_in_view(client: WebClient,
                                                                           session: Session) -> None:
    """Browsers send every cookie of the host, other applications' too, quoted oddly or not. The
    standard library's cookie parser reads nothing of `tracker="x; rv_session=...` (an opening
    quote never closed), where the application (Starlette's parser) reads the session: the cache
    took a signed-in citizen for an anonymous visitor and served them the anonymous page."""
    call = make_call(session, phase="voting")
    make_idea(session, call)
    citizen = make_user(session, display_name="Amandine Lejeune")
    session.commit()
    with client.db.transaction() as arranging:
        token = start_session(arranging, citizen, days=1)
    _warm(client, f"/calls/{call.slug}")  # an anonymous page is kept
    raw = f'tracker="unclosed; {cookies.SESSION.name(client.settings.is_https)}={token}'
    for _ in range(2):
        answer = client.get(f"/calls/{call.slug}", headers={"Cookie": raw})
        assert answer.headers["x-page-cache"] == "bypass"
        assert "Amandine Lejeune" in answer.text
    # Two Cookie headers: the application reads the first, so the cache must too.
    session_cookie = f"{cookies.SESSION.name(client.settings.is_https)}={token}"
    answer = client.get(f"/calls/{call.slug}", headers=[("Cookie", session_cookie), ("Cookie", "rv_lang=fr")])
    assert answer.headers["x-page-cache"] == "bypass"
    assert "Amandine Lejeune" in answer.text


def test_a_page_asked_with_two_languages_is_not_served_to_visitors_of_the_first(client: WebClient,
                                                                              session: Session) -> None:
    """Two Accept-Language headers, `fr` then `de`: the cache keys the page by the first (as
    Starlette reads headers), so the language chosen must be the first's too. It was the last's:
    anyone could make the French page of a call German for every French visitor."""
    call = make_call(session, phase="voting")
    make_idea(session, call)
    session.commit()
    path = f"/calls/{call.slug}"
    asked = client.get(path, headers=[("Accept-Language", "fr"), ("Accept-Language", "de")])
    assert '<html lang="fr"' in asked.text
    client.cookies.clear()  # a French visitor
    _warm(client, path)
    answer = client.get(path, headers={"Accept-Language": "fr"})
    assert answer.headers["x-page-cache"] == "hit" and '<html lang="fr"' in answer.text


def test_a_random_order_spelt_otherwise_is_still_each_visitors_own(client: WebClient, session: Session) -> None:
    """`?sort=rand%6Fm` is the random order to the route (a decoded query parameter), so the page
    depends on the visitor's seed cookie: the cache kept it without the seed in its key, and served
    one visitor's order (and seed, carried by its links) to every other."""
    call = make_call(session, phase="voting")
    for n in range(4):
        make_idea(session, call, title=f"Idée {n}")
    session.commit()
    seed = cookies.SHUFFLE_SEED.name(client.settings.is_https)
    for spelt in ("sort=rand%6Fm", "so%72t=random", "sort=newest&sort=random"):
        client.cookies.set(seed, "5")
        assert 'name="seed" value="5"' in client.get(f"/calls/{call.slug}?{spelt}").text
        client.cookies.set(seed, "777777")
        answer = client.get(f"/calls/{call.slug}?{spelt}")
        assert 'name="seed" value="777777"' in answer.text, spelt


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _get(port: int, path: str, cookie: str) -> tuple[int, str, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.headers.get("x-page-cache", ""), answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers.get("x-page-cache", ""), ""


def test_two_server_processes_never_serve_a_page_made_before_a_write(
        tmp_path: Path, settings: Settings, session: Session) -> None:
    call = make_call(session)
    theme = make_category(session, call, name="Mobilité douce")
    idea = make_idea(session, call, title="Une piste cyclable quai de Rome", category=theme)
    moderator = make_user(session, role=Role.moderator)
    session.commit()
    citizen = make_user(session)
    session.commit()
    token = start_session(session, moderator, days=1)
    citizen_token = start_session(session, citizen, days=1)
    session.commit()
    ports = [free_port(), free_port()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("REINVENTONS_")}
    env.update({"REINVENTONS_DATABASE_URL": settings.resolved_database_url,
                "REINVENTONS_SECRET_KEY": settings.secret_key, "REINVENTONS_LOG_FORMAT": "text"})
    servers = [_serve({**env, "REINVENTONS_DATA_DIR": str(tmp_path / f"machine{n}"),
                       "REINVENTONS_BASE_URL": f"http://127.0.0.1:{port}"}, port, tmp_path / f"s{n}.log")
               for n, port in enumerate(ports)]
    try:
        deadline = time.monotonic() + 90
        while not all(_up(port) for port in ports):
            assert time.monotonic() < deadline, [p.read_text()[-2000:] for p in tmp_path.glob("s*.log")]
            time.sleep(0.3)
        visitor = "rv_csrf=returning-visitor-seed"
        results = [_get(ports[1], f"/ideas/{idea.id}", visitor)[1] for _ in range(3)]
        assert results[-1] == "hit", results
        # A logged-in citizen's list: never from the page cache, its cards kept by the process.
        logged_in = f"rv_session={citizen_token}; rv_csrf=citizen-seed"
        lists = [_get(ports[1], f"/calls/{call.slug}", logged_in) for _ in range(2)]
        assert all(x[:2] == (200, "bypass") and "Une piste cyclable quai de Rome" in x[2] for x in lists)
        theme.name = "Nature en ville"  # a write by a third process: the card's tag only
        session.add(theme)
        session.commit()
        page = _get(ports[1], f"/calls/{call.slug}", logged_in)[2]
        assert "Nature en ville" in page and "Mobilité douce" not in page
        staff = f"rv_session={token}; rv_csrf=moderator-seed"
        hide = urllib.request.Request(
            f"http://127.0.0.1:{ports[0]}/moderation/ideas/{idea.id}/hide", method="POST",  # noqa: S310
            data=f"reason=Hors+charte&csrf_token={csrf_token_for(settings.secret_key, 'moderator-seed')}".encode(),
            headers={"Cookie": staff, "Content-Type": "application/x-www-form-urlencoded"})

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: object, **kwargs: object) -> None:
                return None

        try:
            urllib.request.build_opener(NoRedirect).open(hide, timeout=10)
        except urllib.error.HTTPError as answered:
            assert answered.code == 303, answered.read()[:500]
        assert _get(ports[1], f"/ideas/{idea.id}", visitor)[0] == 404  # at once, on the other process
        status, result, page = _get(ports[1], f"/calls/{call.slug}", logged_in)
        assert (status, result) == (200, "bypass") and "Une piste cyclable quai de Rome" not in page
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)


def _up(port: int) -> bool:
    try:
        return _get(port, "/healthz", "")[0] == 200
    except OSError:  # not listening yet
        return False

"""Redis, when configured (issue 14): rate limits and the page generation shared by every
server process through the real Redis on 127.0.0.1:6379, and the database taking over when
Redis does not answer. Each test has keys of its own (a random prefix), deleted afterwards."""

import logging
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import redis
from sqlmodel import Session, select

from app import clock, redis_link
from app.db import make_engine
from app.errors import RateLimited
from app.main import create_app
from app.pagecache.generation import SETTLE_SECONDS, FileGeneration, RedisGeneration
from app.ratelimit import service as ratelimit
from app.ratelimit.models import RateLimitHit
from app.security import CSRF_COOKIE, csrf_token_for
from app.settings import Settings
from tests.factories import make_call, make_idea, make_user
from tests.support import LiveServer, WebClient, free_port, make_settings, run_coroutine

REDIS_URL = "redis://127.0.0.1:6379/0"
LIMIT_MESSAGE = "Trop de tentatives échouées pour ce compte. Veuillez patienter une minute puis réessayer."
WRONG_PASSWORD = "pas le bon mot de passe"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards. Skips the test when
    the Redis server started for every session and CI run is not there."""
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        server.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis server answers on 127.0.0.1:6379 ({exc}); start it to run these tests")
    name = f"test-{secrets.token_hex(6)}:"
    yield name
    for key in server.scan_iter(match=f"{name}*"):
        server.delete(key)
    server.close()


@pytest.fixture
def shared(tmp_path: Path, database_url: str, prefix: str) -> Settings:
    return make_settings(tmp_path / "var", database_url, redis_url=REDIS_URL, redis_prefix=prefix)


@pytest.fixture
def two(shared: Settings) -> Iterator[tuple[WebClient, WebClient]]:
    """Two servers on the same database and the same Redis: what two machines are."""
    with WebClient(create_app(shared), base_url="http://testserver") as one, \
            WebClient(create_app(shared), base_url="http://testserver") as other:
        yield one, other


def _failed_login(web: WebClient, email: str) -> tuple[int, str]:
    answer = web.submit("/account/login", {"email": email, "password": WRONG_PASSWORD})
    return answer.status_code, answer.text


def _hits_in_database(session: Session) -> int:
    return len(session.exec(select(RateLimitHit)).all())


def test_the_login_limit_holds_across_two_servers_sharing_redis(two: tuple[WebClient, WebClient],
                                                                session: Session, prefix: str) -> None:
    one, other = two
    make_user(session, email="cible@example.org")
    session.commit()
    limit = one.settings.login_attempts_per_minute
    # The guesses alternate between the two servers: each sees the other's.
    for attempt in range(limit):
        assert _failed_login((one, other)[attempt % 2], "cible@example.org")[0] == 422
    for web in (one, other):
        answer = web.submit("/account/login", {"email": "cible@example.org", "password": WRONG_PASSWORD})
        assert answer.status_code == 429
        assert 0 < int(answer.headers["retry-after"]) <= 61
        assert LIMIT_MESSAGE in answer.text  # the message the database's limit gives
    # Counted in Redis under this deployment's prefix, not in the database.
    assert _hits_in_database(session) == 0
    server = redis.Redis.from_url(REDIS_URL)
    assert server.zcard(f"{prefix}ratelimit:login:cible@example.org") == limit
    server.close()


def test_parallel_guesses_on_two_servers_cannot_outrun_the_limit(tmp_path: Path, database_url: str, prefix: str,
                                                                 session: Session) -> None:
    """Twenty guesses at once, spread over two live servers: the limit's five are tried, the
    rest refused (each request waits for the key's turn before counting, as without Redis)."""
    make_user(session, email="assiegee@example.org")
    session.commit()
    servers = []
    for name in ("one", "two"):
        port = free_port()
        servers.append(LiveServer(make_settings(tmp_path / name, database_url, base_url=f"http://127.0.0.1:{port}",
                                                redis_url=REDIS_URL, redis_prefix=prefix)))
    for server in servers:
        server.start()
    secret = servers[0].app.state.settings.resolved_secret_key

    def guess(i: int) -> int:
        seed = f"seed-{i}"
        with httpx.Client(base_url=servers[i % 2].url, cookies={CSRF_COOKIE: seed}, timeout=60) as http:
            return http.post("/account/login", data={
                "email": "assiegee@example.org", "password": f"mauvais mot de passe {i}",
                "csrf_token": csrf_token_for(secret, seed)}).status_code

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = sorted(pool.map(guess, range(20)))
    finally:
        for server in servers:
            server.stop()
    assert statuses == [422] * 5 + [429] * 15


def test_the_same_limits_and_message_with_and_without_redis(tmp_path: Path, database_url: str,
                                                           prefix: str, session: Session) -> None:
    make_user(session, email="un@example.org")
    make_user(session, email="deux@example.org")
    session.commit()
    answers = {}
    for email, extra in (("un@example.org", {}), ("deux@example.org", {"redis_url": REDIS_URL})):
        settings = make_settings(tmp_path / email, database_url, redis_prefix=prefix, **extra)
        with WebClient(create_app(settings), base_url="http://testserver") as web:
            answers[email] = [_failed_login(web, email)[0] for _ in range(settings.login_attempts_per_minute + 2)]
            answers[email].append(_failed_login(web, email)[1].count(LIMIT_MESSAGE))
    assert answers["un@example.org"] == answers["deux@example.org"] == [422] * 5 + [429, 429, 1]


def test_the_window_ends_and_a_success_clears_the_failures(two: tuple[WebClient, WebClient],
                                                           session: Session) -> None:
    one, other = two
    make_user(session, email="patiente@example.org", password="le bon mot de passe")
    session.commit()
    for _ in range(one.settings.login_attempts_per_minute):
        _failed_login(one, "patiente@example.org")
    assert _failed_login(other, "patiente@example.org")[0] == 429
    with clock.travel(timedelta(seconds=61)):  # the oldest failures leave the minute's window
        assert _failed_login(other, "patiente@example.org")[0] == 422
        for _ in range(one.settings.login_attempts_per_minute - 2):
            _failed_login(one, "patiente@example.org")
        good = one.submit("/account/login", {"email": "patiente@example.org", "password": "le bon mot de passe"})
        assert good.status_code == 303
        # The success forgot the failures, on both servers: five more guesses are tried.
        assert [_failed_login(other, "patiente@example.org")[0] for _ in range(6)] == [422] * 5 + [429]


def test_a_hit_counts_only_if_its_transaction_commits(two: tuple[WebClient, WebClient]) -> None:
    one, other = two
    with one.db.session(write=True) as session:
        ratelimit.record(session, "post:idea:7")
        session.rollback()  # a form refused after counting
        ratelimit.record(session, "post:idea:8")
        session.commit()
    with one.db.transaction() as session:
        ratelimit.check(session, "post:idea:7", limit=1, window=timedelta(hours=1))  # nothing counted
        ratelimit.record(session, "post:idea:7")
    with other.db.transaction() as session, pytest.raises(RateLimited) as refused:
        ratelimit.check(session, "post:idea:7", limit=1, window=timedelta(hours=1))
    assert 3590 < refused.value.retry_after <= 3601


def test_redis_down_the_database_counts_and_the_process_stays_ready(
        tmp_path: Path, database_url: str, session: Session, caplog: pytest.LogCaptureFixture) -> None:
    nobody = free_port()  # nothing listens there
    settings = make_settings(tmp_path / "var", database_url, redis_url=f"redis://:motdepasse-redis@127.0.0.1:{nobody}/0")
    make_user(session, email="tenace@example.org")
    session.commit()
    caplog.set_level(logging.WARNING, logger="app.redis_link")
    with WebClient(create_app(settings), base_url="http://testserver") as web:
        statuses = [_failed_login(web, "tenace@example.org")[0] for _ in range(settings.login_attempts_per_minute + 1)]
        assert statuses == [422] * 5 + [429]  # never a 500, and the limit still holds
        assert _hits_in_database(session) == 5
        ready = web.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready",
                                "checks": {"database": "ok", "storage": "ok", "search": "ok", "redis": "degraded"}}
    outages = [r.getMessage() for r in caplog.records if "does not answer" in r.getMessage()]
    assert len(outages) == 1 and f"127.0.0.1:{nobody}" in outages[0]  # once per outage, not per request
    assert "motdepasse-redis" not in caplog.text


def test_a_write_on_one_server_makes_the_others_pages_stale_through_redis(
        two: tuple[WebClient, WebClient], session: Session, prefix: str) -> None:
    one, other = two
    call = make_call(session, phase="voting")
    idea = make_idea(session, call, title="Un potager partagé rue Saint-Gilles")
    citizen = make_user(session)
    session.commit()
    path = f"/calls/{call.slug}"
    for _ in range(3):
        if other.get(path).headers["x-page-cache"] == "hit":
            break
    else:
        raise AssertionError("the page was never served from the cache")
    server = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    before = server.get(f"{prefix}page-generation")
    one.login_as(citizen)
    assert one.submit(f"/ideas/{idea.id}/vote").status_code in (200, 303)  # through the first server
    assert server.get(f"{prefix}page-generation") != before
    assert other.get(path).headers["x-page-cache"] == "miss"  # the other server made it again
    assert other.get(path).headers["x-page-cache"] == "hit"
    # The other server reads the generation from Redis: a bump there (another machine's write)
    # is enough to make its pages stale, once that write's answer could have left (it leaves
    # SETTLE_SECONDS after the bump: app.pagecache.settle).
    server.set(f"{prefix}page-generation", "another machine's write")
    time.sleep(SETTLE_SECONDS)
    assert other.get(path).headers["x-page-cache"] == "miss"
    server.close()


def test_the_page_generation_falls_back_to_the_database_and_renews_when_redis_is_back(
        two: tuple[WebClient, WebClient], prefix: str) -> None:
    one, other = two
    generation = one.db.generation
    before = generation.current()
    assert before.startswith("redis:") and before == other.db.generation.current()
    link = one.db.redis
    assert link is not None
    working = link.client
    link.client = redis.Redis(port=free_port(), socket_connect_timeout=0.2)  # Redis gone, for this server
    try:
        assert generation.current().startswith("database:")
        generation.bump()  # a write while Redis is away: the database's generation has it
        assert generation.current().startswith("database:")
    finally:
        link.client = working
    link._resting_until = 0.0  # the rest is over: Redis is tried again at once
    back = generation.current()
    # Back on Redis with a value no page was kept under: the write made while Redis was away
    # counts for the other server too.
    assert back.startswith("redis:") and back != before and back == other.db.generation.current()


def test_a_redis_url_that_is_not_one_is_refused_at_start_without_showing_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError) as refused:
        Settings(data_dir=tmp_path, redis_url="http://:motdepasse@10.0.0.21:6379")
    assert "REINVENTONS_REDIS_URL must be a redis://" in str(refused.value)
    assert "motdepasse" not in str(refused.value)
    assert "motdepasse" not in repr(Settings(data_dir=tmp_path, redis_url="redis://:motdepasse@10.0.0.21:6379/0"))


@pytest.fixture
def read_only_redis() -> Iterator[str]:
    """A Redis server of this test's own that answers every read and refuses every write: a
    replica (of a master that is not there), as the address of a failed-over master, or a
    replica named by mistake, answers (READONLY). Its own, on a free port: the shared server's
    configuration is not touched."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary to start a read-only Redis of the test's own")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--replicaof", "127.0.0.1", str(free_port())],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=1)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        with pytest.raises(redis.ReadOnlyError):
            client.set("a", "b")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)


def test_a_redis_that_reads_but_refuses_writes_does_not_lift_the_login_limit(
        tmp_path: Path, database_url: str, session: Session, read_only_redis: str) -> None:
    """Hits Redis refused are counted in the database; the limit must add them up even when
    Redis answers the next count. One guess every 5 s (each after the link's rest) must not
    get more tries than the limit."""
    settings = make_settings(tmp_path / "var", database_url, redis_url=read_only_redis)
    make_user(session, email="obstinee@example.org")
    session.commit()
    with WebClient(create_app(settings), base_url="http://testserver") as web:
        link = web.db.redis
        assert link is not None
        statuses = []
        for _ in range(settings.login_attempts_per_minute + 1):
            link._resting_until = 0.0  # 5 s later: the link tries Redis again
            statuses.append(_failed_login(web, "obstinee@example.org")[0])
    assert statuses == [422] * 5 + [429]



def test_a_write_in_one_process_makes_the_others_pages_stale_when_redis_refuses_writes(
        tmp_path: Path, read_only_redis: str) -> None:
    """Two processes (two links, two generations: in one process the application's share one)
    on one database and a Redis that answers reads but refuses writes. The first one's bump
    cannot reach Redis; the other, which never failed a command itself, must not go on reading
    an unchanged generation from Redis and serving the pages it made before the write (a
    hidden idea still shown)."""
    settings = make_settings(tmp_path / "var", f"sqlite:///{tmp_path / 'var' / 'db.sqlite'}",
                             redis_url=read_only_redis)
    database = FileGeneration(tmp_path / "page-generation")
    links = [redis_link.connect(settings) for _ in range(2)]
    one, other = (RedisGeneration(link, database) for link in links if link is not None)
    before = other.current()
    one.bump()
    assert other.current() != before
    for link in links:
        assert link is not None
        link.close()



def test_a_process_reads_its_own_bump_at_once_while_reads_are_shared(tmp_path: Path, shared: Settings) -> None:
    """A process's reads of the generation are shared for a while (`settle_seconds`); its own
    bump is read at once after it returns, not after that while: the page it answers next (the
    idea just hidden, the support just given) is made again, never served as kept before."""

    class LongShared(RedisGeneration):
        settle_seconds = 60.0  # longer than the test: a read still shared at its end is the old one

    link = redis_link.connect(shared)
    assert link is not None
    generation = LongShared(link, FileGeneration(tmp_path / "page-generation"))

    async def read_bump_read() -> tuple[str, str, str]:  # on one event loop, as a server process reads
        before = await generation.read_now()
        shared_read = await generation.read_now()
        generation.bump()
        return before, shared_read, await generation.read_now()

    try:
        before, shared_read, after = run_coroutine(read_bump_read())
        assert shared_read == before
        assert after != before and after == generation.current()
    finally:
        link.close()


@pytest.mark.parametrize("url", ["http://:Xy7-tres-secret@redis", "redis://:Xy7-tres-secret@redis:notaport/0"])
def test_a_refused_redis_url_shows_no_secret_in_the_start_up_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """What `reinventons serve` prints when it refuses its settings: pydantic's error quoted
    the settings it was given, their beginning and their end (the secret key's first
    characters and the Redis password, with a host name short enough)."""
    monkeypatch.setenv("REINVENTONS_SECRET_KEY", "TopSecretSigningKey0123456789")
    monkeypatch.setenv("REINVENTONS_REDIS_URL", url)
    with pytest.raises(ValueError) as refused:
        Settings()
    assert "REINVENTONS_REDIS_URL" in str(refused.value)
    assert "Xy7" not in str(refused.value) and "TopSecret" not in str(refused.value)


@pytest.mark.parametrize("password", ["s3cret/Kq9+Zw==", "s3cret#x", "s3cret?x", "6379/x"])
def test_a_password_that_breaks_the_redis_url_is_refused_at_start_without_showing_it(
        tmp_path: Path, password: str) -> None:
    """A generated password often holds "/" (base64), "#" or "?": unencoded, the URL's host part
    ends there. Refused when the settings are read, with how to write it, and no part of the
    password: the address parser's own error ("Port could not be cast to integer value as
    's3cret'") showed its beginning, and "6379/x" named localhost without a password."""
    with pytest.raises(ValueError) as refused:
        Settings(data_dir=tmp_path, redis_url=f"redis://:{password}@redis/0")
    assert "percent-encoded" in str(refused.value)
    assert password.split("/")[0].split("#")[0].split("?")[0] not in str(refused.value)
    encoded = quote(password, safe="")
    assert Settings(data_dir=tmp_path, redis_url=f"redis://:{encoded}@redis/0").redis_url



def test_a_failed_redis_write_logs_no_key_of_a_limit(tmp_path: Path, read_only_redis: str,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """redis-py names the failed command of a pipeline with its arguments in its error, here a
    limit's key: the e-mail address someone tried to log in as (or a visitor's address). The
    outage's log line keeps Redis's answer and leaves the command out."""
    link = redis_link.connect(make_settings(tmp_path / "var", "sqlite://", redis_url=read_only_redis))
    assert link is not None
    caplog.set_level(logging.WARNING, logger="app.redis_link")

    def count(client: redis.Redis) -> None:
        pipe = client.pipeline(transaction=True)
        pipe.zadd(link.key("ratelimit:login:personne@example.org"), {"1796041143.5:ab12": 1796041143.5})
        pipe.execute()

    assert link.run("count a rate limit", count) is None
    link.close()
    outages = [r.getMessage() for r in caplog.records if "does not answer" in r.getMessage()]
    assert len(outages) == 1 and "read only replica" in outages[0]
    assert "personne@example.org" not in caplog.text


@pytest.fixture(params=[b"+OK\r\n", b":1\r\n"], ids=["ok", "integer"])
def not_redis(request: pytest.FixtureRequest) -> Iterator[str]:
    """A FAKE server, not Redis: a TCP server giving the same well-formed reply to every command
    (what a REDIS_URL naming another service, or a broken proxy in front of Redis, may answer).
    Nothing real answers this way, hence the fake."""
    reply: bytes = request.param
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            while not stop.is_set():
                data = conn.recv(65536)
                if not data:
                    return
                commands = data.count(b"\r\n*") + data.startswith(b"*")
                conn.sendall(reply * max(1, commands))

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _peer = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join()
    listener.close()


def test_a_server_answering_nonsense_is_an_outage_not_an_error(tmp_path: Path, database_url: str,
                                                                 session: Session, not_redis: str) -> None:
    settings = make_settings(tmp_path / "var", database_url, redis_url=not_redis)
    make_user(session, email="perdue@example.org")
    session.commit()
    with WebClient(create_app(settings), base_url="http://testserver", raise_server_exceptions=False) as web:
        assert web.get("/").status_code == 200
        statuses = [_failed_login(web, "perdue@example.org")[0] for _ in range(settings.login_attempts_per_minute + 1)]
        assert statuses == [422] * 5 + [429]
        assert web.get("/readyz").json()["checks"]["redis"] == "degraded"


def test_a_redis_refusing_writes_is_degraded_for_readiness_and_logged_once(
        tmp_path: Path, database_url: str, read_only_redis: str, caplog: pytest.LogCaptureFixture) -> None:
    """The database does Redis's work while Redis refuses writes: /readyz says so, and the
    readiness check's PING, which such a Redis answers, does not announce a recovery that the
    next command contradicts (two warnings per probe, every few seconds, in every process)."""
    settings = make_settings(tmp_path / "var", database_url, redis_url=read_only_redis)
    caplog.set_level(logging.WARNING, logger="app.redis_link")
    with WebClient(create_app(settings), base_url="http://testserver") as web:
        for _ in range(3):
            assert web.get("/readyz").json()["checks"]["redis"] == "degraded"
            assert web.get("/").status_code == 200
    assert [r.getMessage() for r in caplog.records if "answers again" in r.getMessage()] == []
    assert len([r for r in caplog.records if "does not answer" in r.getMessage()]) == 1


def test_counting_from_a_redis_that_refuses_writes_is_counting_in_the_database(
        tmp_path: Path, database_url: str, read_only_redis: str) -> None:
    """The count alone, with nothing else in the request failing first (no page generation
    read, as on PostgreSQL before a login's check): each hit goes to the database when Redis
    refuses it, so the count must be read there too, not from Redis, which answers 0 each time."""
    link = redis_link.connect(make_settings(tmp_path / "var", database_url, redis_url=read_only_redis))
    assert link is not None
    engine = make_engine(database_url)  # not the application's: no page generation tracked
    window = timedelta(minutes=1)
    passed = 0
    try:
        for _ in range(6):
            link._resting_until = 0.0  # 5 s later: the link tries Redis again
            with Session(engine, info={redis_link.SESSION_KEY: link}) as session:
                try:
                    ratelimit.check(session, "login:isolee@example.org", limit=5, window=window)
                except RateLimited:
                    continue
                ratelimit.record(session, "login:isolee@example.org")
                session.commit()
                passed += 1
        assert passed == 5
    finally:
        with Session(engine) as session:
            ratelimit.clear(session, "login:isolee@example.org")
            session.commit()
        engine.dispose()
        link.close()


def test_an_outage_of_redis_on_a_unix_socket_names_the_socket(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    socket_path = tmp_path / "redis.sock"  # nothing listens there
    link = redis_link.connect(make_settings(tmp_path / "var", "sqlite://",
                                            redis_url=f"unix://:motdepasse-redis@{socket_path}?db=0"))
    assert link is not None
    caplog.set_level(logging.WARNING, logger="app.redis_link")
    assert link.run("read the page generation", lambda client: client.get("x")) is None
    link.close()
    assert f"Redis at {socket_path} does not answer" in caplog.text  # not "localhost:6379"
    assert "motdepasse-redis" not in caplog.text

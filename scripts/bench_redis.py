"""What Redis (REDIS_URL) changes for the two things it keeps: the page generation every cacheable
request reads, and a rate-limited write (a check, a hit, the commit).

    .venv/bin/python scripts/bench_redis.py [--rounds 2000] [--redis redis://127.0.0.1:6379/0]
    REINVENTONS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python scripts/bench_redis.py          # the same on PostgreSQL (its hits are deleted)

Builds a fresh migrated database (a temporary SQLite file by default), then times each operation
`--rounds` times through the platform's own code (app.db, app.pagecache, app.ratelimit), once
with the database alone and once with Redis, and prints p50 and p95 in microseconds and the SQL
statements each operation sends. Keys go under a prefix of their own, deleted at the end. A
measurement, not a test: nothing fails; say how loaded the machine was.
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from app import migrate  # noqa: E402
from app.db import Database  # noqa: E402
from app.ratelimit import service as ratelimit  # noqa: E402
from app.settings import Settings  # noqa: E402


def _time(rounds: int, work: Callable[[int], None]) -> tuple[float, float]:
    spent = []
    for i in range(rounds):
        start = time.perf_counter()
        work(i)
        spent.append((time.perf_counter() - start) * 1e6)
    return statistics.median(spent), statistics.quantiles(spent, n=20)[18]


def _statements(db: Database, work: Callable[[int], None]) -> int:
    seen: list[str] = []

    def note(*_args: object) -> None:
        seen.append("")

    event.listen(db.engine, "before_cursor_execute", note)
    work(-1)
    event.remove(db.engine, "before_cursor_execute", note)
    return len(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-redis-"))
    url = os.environ.get("REINVENTONS_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    migrate.upgrade(url)
    prefix = f"bench-{secrets.token_hex(4)}:"
    print(f"database: {url.split('://')[0]}, {args.rounds} rounds, load average {os.getloadavg()[0]:.1f}")
    print(f"{'operation':<40} {'store':<9} {'p50 µs':>8} {'p95 µs':>8} {'SQL':>4}")
    for store, redis_url in (("database", ""), ("redis", args.redis)):
        db = Database.from_settings(Settings(data_dir=folder, database_url=url, redis_url=redis_url,
                                             redis_prefix=prefix))
        _measure(store, db, args.rounds)
        if db.redis is not None:
            for key in db.redis.client.scan_iter(match=f"{prefix}*"):
                db.redis.client.delete(key)
        with db.transaction() as session:
            ratelimit.prune(session, older_than=timedelta(0))
        db.dispose()


def _measure(store: str, db: Database, rounds: int) -> None:
    def read(_i: int) -> None:
        db.generation.current()

    def limited_write(i: int) -> None:
        with db.transaction() as session:
            key = f"bench:{i % 100}"
            ratelimit.check(session, key, limit=10**9, window=timedelta(hours=1))
            ratelimit.record(session, key)

    for name, work in (("page generation read", read), ("rate-limited write (check, hit, commit)", limited_write)):
        p50, p95 = _time(rounds, work)
        # SQL sent through the application's engine (PostgreSQL reads its sequence on a pool of
        # its own, app.pagecache.generation: one statement more per read, not counted here).
        print(f"{name:<40} {store:<9} {p50:>8.0f} {p95:>8.0f} {_statements(db, work):>4}")

if __name__ == "__main__":
    main()

"""How long the home page's key figures take to read (issue 14), before and after migration 0042:
the count the platform ran before (tests/pages/key_figures_oracle.py) against
app.pages.home.key_figures, which reads the tallies the triggers keep; and what the triggers cost a
support and the benchmark's bulk fill.

    .venv/bin/python scripts/bench_key_figures.py [--ideas 100000] [--votes 1000000]
    REINVENTONS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python scripts/bench_key_figures.py        # the same on PostgreSQL (database emptied!)

Fills a fresh database (a temporary SQLite file by default) with the benchmark's own code
(bench/dataset.py, 20 calls, 20,000 citizens: 0042's triggers dropped for the load, the
migration's backfill run after it and the triggers created again), then hides one idea in fifty
(a core UPDATE, which the triggers follow). With `--fill-with-triggers` the triggers follow
every inserted row instead: compare both fills' times. Prints the fill's time, the median and worst of
`--repeat` reads with both codes in milliseconds (and that both give the same figures), then
the time of `--supports` supports (a vote inserted and its idea's counter moved, as
app.vote.service does) in one transaction, with and without 0042's triggers (rolled back both;
the median of three rounds of each, after one round to warm the cache).
With `--call`, the same for a call's figures (migration 0044) instead: the largest call's figures
counted as before (tests/idea/call_figures_oracle.py) and its unfiltered list's COUNT against
app.idea.queries.call_figures, which reads the call's tally rows; the supports with and without
0044's triggers (0042's kept in both).
A measurement, not a test: say how loaded the machine was (the load average is printed).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app.db import Database  # noqa: E402
from app.idea import queries as idea_queries  # noqa: E402
from app.pages.home import key_figures  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench import dataset  # noqa: E402
from tests.idea.call_figures_oracle import recount as call_recount  # noqa: E402
from tests.pages.key_figures_oracle import recount  # noqa: E402

KEY_FIGURES, CALL_FIGURES = dataset.BACKFILLED


def _time(call: Any, repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


def _supports(database: Database, count: int, with_triggers: bool, migration: str = KEY_FIGURES) -> float:
    """Seconds for `count` supports by people who gave none yet (each one a new participant) on
    public ideas, in one transaction rolled back; without `migration`'s triggers unless `with_triggers`."""
    with database.engine.connect() as conn:
        transaction = conn.begin()
        try:
            if not with_triggers:
                dataset.drop_tally_triggers(conn, (migration,))
            ideas = conn.exec_driver_sql("SELECT id, call_id FROM idea WHERE status = 'published' "
                                         "AND hidden_at IS NULL ORDER BY id LIMIT 1000").all()
            people = conn.exec_driver_sql("SELECT id FROM user_account u "
                                          "WHERE NOT EXISTS (SELECT 1 FROM vote v WHERE v.user_id = u.id) "
                                          "ORDER BY id").scalars().all()
            if not people:
                people = conn.exec_driver_sql("SELECT id FROM user_account ORDER BY id").scalars().all()
            insert = sa.text("INSERT INTO vote (idea_id, user_id, call_id, created_at) "
                             "VALUES (:idea, :user, :call, CURRENT_TIMESTAMP)")
            move = sa.text("UPDATE idea SET vote_count = vote_count + 1 WHERE id = :idea")
            started = time.perf_counter()
            for n in range(count):
                # Distinct (idea, person) pairs, each person new to supports while n < len(people).
                idea_id, call_id = ideas[(n // len(people) + n * 7) % len(ideas)]
                conn.execute(insert, {"idea": idea_id, "user": people[n % len(people)], "call": call_id})
                conn.execute(move, {"idea": idea_id})
            return time.perf_counter() - started
        finally:
            transaction.rollback()


def _support_cost(database: Database, supports: int, migration: str) -> None:
    """Print what `migration`'s triggers add to a support: the median of 3 rounds of `supports`
    supports without them and with them (after one round unmeasured, to read the pages once)."""
    _supports(database, supports, True, migration)
    rounds = [(_supports(database, supports, False, migration), _supports(database, supports, True, migration))
              for _ in range(3)]
    without = statistics.median(r[0] for r in rounds)
    with_ = statistics.median(r[1] for r in rounds)
    print(f"  {supports} supports in one transaction: {without * 1e6 / supports:.0f} us each without "
          f"{migration[:4]}'s triggers, {with_ * 1e6 / supports:.0f} us with them "
          f"(+{(with_ - without) * 1e6 / supports:.0f} us)")
    print(f"load average {os.getloadavg()[0]:.1f}")


def _call(database: Database, args: argparse.Namespace) -> None:
    """The largest call's figures and list count, counted and read, then 0044's cost to a support."""
    with database.autocommit_session() as s:
        call_id = s.execute(sa.text("SELECT call_id FROM idea GROUP BY call_id ORDER BY count(*) DESC "
                                    "LIMIT 1")).scalar_one()
        listed = idea_queries.public_ideas(call_id)
        before_p50, before_max, before = _time(lambda: call_recount(s, call_id), args.repeat)
        count_p50, count_max, counted = _time(lambda: idea_queries.count(s, listed), args.repeat)
        after_p50, after_max, after = _time(lambda: idea_queries.call_figures(s, call_id), args.repeat)
        print(f"  call {call_id}'s figures: count (before) p50 {before_p50:8.1f} ms, max {before_max:8.1f} ms | "
              f"list COUNT (before) p50 {count_p50:8.1f} ms, max {count_max:8.1f} ms | "
              f"read (after) p50 {after_p50:6.2f} ms, max {after_max:6.2f} ms | "
              f"same: {before == after and counted == after.ideas} {after}")
    _support_cost(database, args.supports, CALL_FIGURES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--supports", type=int, default=2_000)
    parser.add_argument("--fill-with-triggers", action="store_true")
    parser.add_argument("--existing", default="", help="measure this database, filled by an earlier run")
    parser.add_argument("--call", action="store_true", help="measure a call's figures (0044), not the home page's")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-key-figures-"))
    url = args.existing or os.environ.get("REINVENTONS_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    settings = Settings(database_url=url, data_dir=folder, secret_key="x" * 40, meili_url="")
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    if not args.existing:
        if dialect == "postgresql":
            dataset.empty_postgres(url)
        size = dataset.Size(ideas=args.ideas, votes=args.votes, comments=1_000, citizens=20_000, calls=20)
        started = time.monotonic()
        dataset.fill(url, settings, size, tally_triggers=args.fill_with_triggers)
        print(f"{dialect}: {args.ideas} ideas, {args.votes} supports, filled in {time.monotonic() - started:.0f} s "
              f"({'the triggers following each row' if args.fill_with_triggers else 'backfilled after the load'})")
    database = Database.from_settings(settings)
    with database.transaction() as s:
        s.execute(sa.text("UPDATE idea SET hidden_at = created_at WHERE id % 50 = 7"))
        if args.call:  # half answered, as a call in review may have them (the triggers follow)
            s.execute(sa.text("UPDATE idea SET answer_status = 'accepted' WHERE id % 2 = 0"))
    if dialect == "postgresql":
        with database.engine.connect() as conn:  # what autovacuum does after a bulk load
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"load average {os.getloadavg()[0]:.1f}")
    if args.call:
        _call(database, args)
        database.dispose()
        return
    with database.autocommit_session() as s:
        before_p50, before_max, before = _time(lambda: recount(s), args.repeat)
        after_p50, after_max, after = _time(lambda: key_figures(s, answered_share=0, median_days=None),
                                            args.repeat)
        kept = (after.ideas, after.participants, after.supports)
        print(f"  key figures: count (before) p50 {before_p50:8.1f} ms, max {before_max:8.1f} ms | "
              f"read (after) p50 {after_p50:6.2f} ms, max {after_max:6.2f} ms | same: {before == kept} {kept}")
    _support_cost(database, args.supports, KEY_FIGURES)
    database.dispose()


if __name__ == "__main__":
    main()

"""How long the dialogue figures of the whole platform take to read (issue 14), before and after
migration 0041: the full recount the platform ran before (tests/moderation/dialogue_oracle.py)
against app.moderation.dialogue.figures, which reads the tallies the triggers keep.

    .venv/bin/python scripts/bench_dialogue.py [--ideas 100000] [--comments 300000]
    REINVENTONS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python scripts/bench_dialogue.py        # the same on PostgreSQL (database emptied!)

Fills a fresh database (a temporary SQLite file by default) with the benchmark's own code
(bench/dataset.py: every idea published, 20 calls), then, as a city would have, answers a third
of the ideas (each with its audit entry, 1 to 90 days after publication), hides one in fifty,
makes twenty people moderators and has them write one comment in ten. Prints the fill's time,
then for each of the platform and the largest call the median and worst of `--repeat` reads
with both codes in milliseconds, and checks that both give the same figures. A measurement, not
a test: compare the numbers, and say how loaded the machine was (the load average is printed).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app.clock import utcnow  # noqa: E402
from app.db import Database  # noqa: E402
from app.idea.models import Idea  # noqa: E402
from app.moderation import dialogue  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench import dataset  # noqa: E402
from tests.moderation.dialogue_oracle import recount  # noqa: E402

STATUSES = ("under_study", "accepted", "partly_accepted", "rejected", "implemented")


def _answer_and_comment(database: Database) -> None:
    """A third of the ideas answered (status, date, audit entry), one in fifty hidden, twenty
    moderators writing one comment in ten: bulk SQL, which the triggers follow as any write."""
    with database.transaction() as s:
        conn = s.connection()
        staff = [row[0] for row in conn.execute(sa.text("SELECT id FROM user_account ORDER BY id LIMIT 20"))]
        conn.execute(sa.text("UPDATE user_account SET role = 'moderator' WHERE id IN :ids")
                     .bindparams(sa.bindparam("ids", expanding=True)), {"ids": staff})
        ideas = conn.execute(sa.select(Idea.id, Idea.published_at).where(Idea.id % 3 == 0)).all()  # type: ignore[operator]
        answers = [{"id": idea_id, "status": STATUSES[idea_id % 5],
                    "at": published + timedelta(days=1 + idea_id % 90, minutes=idea_id % 1440)}
                   for idea_id, published in ideas]
        for start in range(0, len(answers), dataset.BATCH):
            batch = answers[start:start + dataset.BATCH]
            conn.execute(sa.text("INSERT INTO audit_entry (actor_id, action, target_type, target_id, reason, "
                                 "details, created_at) VALUES (:actor, 'answer', 'idea', :id, '', '{}', :at)"),
                         [{**a, "actor": staff[a["id"] % len(staff)]} for a in batch])
            conn.execute(sa.text("UPDATE idea SET answer_status = :status, answered_at = :at WHERE id = :id"), batch)
        conn.execute(sa.text("UPDATE idea SET hidden_at = created_at WHERE id % 50 = 7"))
        conn.execute(sa.text("UPDATE comment SET author_id = :staff WHERE id % 200 = :n"),
                     [{"staff": person, "n": n} for n, person in enumerate(staff)])


def _time(call: object, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--comments", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--existing", default="", help="measure this database, filled by an earlier run")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-dialogue-"))
    url = args.existing or os.environ.get("REINVENTONS_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    settings = Settings(database_url=url, data_dir=folder, secret_key="x" * 40, meili_url="")
    database = Database.from_settings(settings)
    if not args.existing:
        if url.startswith("postgresql"):
            dataset.empty_postgres(url)
        size = dataset.Size(ideas=args.ideas, votes=args.ideas, comments=args.comments, citizens=20_000, calls=20)
        started = time.monotonic()
        dataset.fill(url, settings, size)
        _answer_and_comment(database)
        print(f"{url.split(':')[0]}: {args.ideas} ideas, {args.comments} comments, filled in "
              f"{time.monotonic() - started:.0f} s")
        if url.startswith("postgresql"):
            # What autovacuum does after a bulk load: without it the updates' dead row versions
            # are read by every index scan and no scan is index-only.
            with database.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    print(f"load average {os.getloadavg()[0]:.1f}")
    now = utcnow()  # one moment for both codes: "waiting" moves with the clock
    with database.autocommit_session() as s:
        largest = s.connection().exec_driver_sql("SELECT call_id FROM idea GROUP BY call_id "
                                                 "ORDER BY count(*) DESC LIMIT 1").scalar_one()
        for label, call_id in (("platform", None), ("largest call", largest)):
            before_p50, before_max, before = _time(lambda c=call_id: recount(s, c, now=now), args.repeat)
            after_p50, after_max, after = _time(lambda c=call_id: dialogue.figures(s, c, now=now), args.repeat)
            print(f"  {label:13} recount (before) p50 {before_p50:8.1f} ms, max {before_max:8.1f} ms | "
                  f"figures() (after) p50 {after_p50:6.2f} ms, max {after_max:6.2f} ms | same: {before == after}")
        print(f"  figures: {dialogue.figures(s, now=now)}")
    database.dispose()


if __name__ == "__main__":
    main()

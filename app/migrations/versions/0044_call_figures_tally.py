"""A call's public figures kept by triggers: public ideas, their supports, how many are answered

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-02 15:00:00

app.idea.queries.call_figures counted on every uncached call page, results page and share image
the call's public ideas (status published or merged, not hidden: app.idea.queries.public_condition),
the sum of their `vote_count` and how many have an official answer, and the call's unfiltered list
counted its ideas again (app.idea.queries.idea_page): 131 ms and 90 ms at 1,000,000 ideas, paid
again by the next visitor of each list in each process after every support, since a support
bumps the page generation (issue 14). They are now kept by triggers on `idea`, as the key figures
are (migration 0042), so that every writer keeps them exact: the services, core UPDATEs, merges,
account deletion, a call's deletion (its ideas go by the foreign key's CASCADE, whose triggers
take them back; the call's rows stay, at zero), bulk inserts (the benchmark's fill drops these
triggers for its load and runs backfill() after it: bench/dataset.py).

- `call_figures_tally`: per call, in up to SHARDS rows (the idea's id modulo SHARDS), the public
  ideas, the sum of their `vote_count` and those with an `answer_status`. A call's figures are the
  sums over its rows. An idea moved to another call takes its contribution from the old call's
  row and adds it to the new call's.

Each trigger takes away what the row contributed before the write and adds what it contributes
after. On PostgreSQL a support's update of its idea's counter writes one row (the difference).
Lock order: the idea's row (held by the statement that fires the trigger), then 0042's
participation and key figures' shard, then this table's row. PostgreSQL fires a table's triggers
in the order of their names: these are named `trg_idea_totals_*` so that they come after 0042's
(`trg_idea_author_*`, `trg_idea_figures_*`) and 0041's (`trg_idea_tally_*`). The rows are sharded
as 0042's (the idea's id modulo the same SHARDS, 256), so that a writer holding a call's row of
shard s always took the key figures' shard s before it (a write that moves a call's figures
moves the key figures too: public or not, and the supports; only an answer or a move to another
call moves this table's rows alone, and no writer does either to many ideas in one statement).
Sharded otherwise (modulo 64, as 0041's per-call tally), a support and a statement writing
several ideas (an account's deletion withdrawing its supports, a suspension hiding a person's
ideas, supports set aside, a merge) deadlocked: the statement fires each idea's triggers in turn
and holds, say, the key shard of idea 104 and its call's row 104 % 64 = 40, then waits for the
key shard 1000 % 256 = 232, which a support of idea 1000 in the same call holds while it waits
for that call's row 1000 % 64 = 40 (tests/idea/test_call_figures_tally.py plays it). Two
statements writing several ideas each may still, rarely, meet in a deadlock, as 0042 says of its
own rows, which PostgreSQL breaks by failing one of them.

Measured with `scripts/bench_key_figures.py --call --ideas 100000 --votes 300000` (20 calls; the
largest call measured, 32,667 public ideas, half of them answered; a 2-core machine, load 1.2 to
1.3, 256 shards): the call's figures counted 5.4 ms -> read 0.30 ms on SQLite, 8.5 ms -> 1.3 ms on
PostgreSQL; the list's COUNT, now the same read, 3.7 ms on SQLite, 6.7 ms on PostgreSQL. Both
counts grow with the call's ideas (131 ms and 90 ms at a million), the read does not (at most 256
rows; with 64 shards, before the lock order above was found, it read 0.39 and 1.0 ms under load
2.3 to 3.6). A support (its vote's insert and its idea's counter, within one transaction; 0042's
triggers in both) 84 -> 95 us on SQLite, 707 -> 784 us on PostgreSQL.

On SQLite a migration that rebuilds `idea` (batch mode) drops its triggers: it must create them
again (TRIGGER_NAMES, triggers() below; tests/idea/test_call_figures_tally.py checks that they
exist at the head of the chain).
"""

# ruff: noqa: S608 - every statement is built from this module's constants, no value from outside
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rows spread the row locks that writers of different ideas of one call hold to their commit,
# and keep a bulk load's updates per row few on PostgreSQL (each update of a row in one
# transaction leaves a version the next walks past). 0042's SHARDS, not 0041's 64: the lock
# order above needs a call's row of shard s to come with the key figures' shard s. A call's
# figures read at most SHARDS rows, by the primary key.
SHARDS = 256
PUBLIC = "({r}.status IN ('published', 'merged') AND {r}.hidden_at IS NULL)"
COLUMNS = ("ideas", "supports", "answered")


def _public(r: str) -> str:
    return PUBLIC.format(r=r)


def _parts(r: str) -> dict[str, str]:
    """What idea row `r` (NEW, OLD, idea) adds to its call's row when it is public, column by column."""
    return {"ideas": "1", "supports": f"{r}.vote_count",
            "answered": f"(CASE WHEN {r}.answer_status IS NOT NULL THEN 1 ELSE 0 END)"}


def _contribution(r: str) -> dict[str, str]:
    """What idea row `r` adds to its call's row, public or not, column by column."""
    return {c: f"(CASE WHEN {_public(r)} THEN {e} ELSE 0 END)" for c, e in _parts(r).items()}


# The figures the row moves, or the call it counts in, changed: a trigger's WHEN (the other
# writes of these columns, a draft's status or a hidden idea's counter, write nothing).
CHANGED = " OR ".join([f"{o} <> {n}" for o, n in zip(_contribution("OLD").values(), _contribution("NEW").values(),
                                                      strict=True)]
                      + [f"(OLD.call_id <> NEW.call_id AND {_public('OLD')})"])
COLUMNS_READ = "status, hidden_at, vote_count, answer_status, call_id"


def _sqlite_apply(r: str, sign: str) -> str:
    """Idea row `r` adds to (sign +) or takes from (-) its call's row, if `r` is public."""
    # Not INSERT OR IGNORE: a trigger's conflict clause yields to the firing statement's (see 0041).
    key = f"call_id = {r}.call_id AND shard = {r}.id % {SHARDS}"
    sets = ", ".join(f"{c} = {c} {sign} {e}" for c, e in _parts(r).items())
    return (f"INSERT INTO call_figures_tally (call_id, shard) SELECT {r}.call_id, {r}.id % {SHARDS} "
            f"WHERE {_public(r)} AND NOT EXISTS (SELECT 1 FROM call_figures_tally WHERE {key}); "
            f"UPDATE call_figures_tally SET {sets} WHERE {key} AND {_public(r)};")


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER trg_idea_totals_insert AFTER INSERT ON idea WHEN {_public('NEW')} "
        f"BEGIN {_sqlite_apply('NEW', '+')} END",
        f"CREATE TRIGGER trg_idea_totals_delete AFTER DELETE ON idea WHEN {_public('OLD')} "
        f"BEGIN {_sqlite_apply('OLD', '-')} END",
        f"CREATE TRIGGER trg_idea_totals_update AFTER UPDATE OF {COLUMNS_READ} ON idea WHEN {CHANGED} "
        f"BEGIN {_sqlite_apply('OLD', '-')} {_sqlite_apply('NEW', '+')} END",
    ]


def _pg_add(call: str, shard: str, deltas: dict[str, str]) -> str:
    """PL/pgSQL: `deltas` added to the row of (`call`, `shard`), made first if missing (one
    statement when the row exists, as it nearly always does)."""
    key = f"call_id = {call} AND shard = {shard}"
    sets = ", ".join(f"{c} = {c} + ({d})" for c, d in deltas.items())
    return (f"UPDATE call_figures_tally SET {sets} WHERE {key}; IF NOT FOUND THEN "
            f"INSERT INTO call_figures_tally (call_id, shard) VALUES ({call}, {shard}) "
            f"ON CONFLICT (call_id, shard) DO NOTHING; UPDATE call_figures_tally SET {sets} WHERE {key}; END IF;")


def _pg_side(r: str, sign: str) -> str:
    return _pg_add(f"{r}.call_id", f"{r}.id % {SHARDS}", {c: f"{sign}{e}" for c, e in _parts(r).items()})


# The same contributions as SQLite's triggers. An idea public before and after in the same call
# (a support, a withdrawal, an answer) moves its row by the difference, in one statement; else
# the old row's contribution is taken from its call and the new one's added to its own. NEW is
# NULL in a DELETE trigger and OLD in an INSERT trigger.
PG_BODY = (
    f"IF TG_OP = 'UPDATE' AND {_public('OLD')} AND {_public('NEW')} AND OLD.call_id = NEW.call_id THEN "
    + _pg_add("NEW.call_id", f"NEW.id % {SHARDS}",
              {c: f"{n} - {o}" for c, n, o in zip(COLUMNS, _parts("NEW").values(), _parts("OLD").values(),
                                                   strict=True)})
    + f" ELSE IF TG_OP <> 'INSERT' AND {_public('OLD')} THEN {_pg_side('OLD', '-')} END IF; "
    f"IF TG_OP <> 'DELETE' AND {_public('NEW')} THEN {_pg_side('NEW', '+')} END IF; END IF;"
)


def _pg_triggers() -> list[str]:
    return [
        f"CREATE FUNCTION idea_call_totals() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {PG_BODY} "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER trg_idea_totals_insert AFTER INSERT ON idea FOR EACH ROW WHEN ({_public('NEW')}) "
        "EXECUTE FUNCTION idea_call_totals()",
        f"CREATE TRIGGER trg_idea_totals_delete AFTER DELETE ON idea FOR EACH ROW WHEN ({_public('OLD')}) "
        "EXECUTE FUNCTION idea_call_totals()",
        f"CREATE TRIGGER trg_idea_totals_update AFTER UPDATE OF {COLUMNS_READ} ON idea FOR EACH ROW "
        f"WHEN ({CHANGED}) EXECUTE FUNCTION idea_call_totals()",
    ]


def triggers(dialect: str) -> list[str]:
    """The statements creating the triggers (and on PostgreSQL their function) on `dialect`."""
    return _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()


TRIGGER_NAMES = {"idea": ("trg_idea_totals_insert", "trg_idea_totals_delete", "trg_idea_totals_update")}
PG_FUNCTIONS = ("idea_call_totals",)


def backfill() -> list[str]:
    """The statements computing the tally from the rows (no trigger of this revision yet): one
    pass over the public ideas."""
    sums = ", ".join(f"sum({e})" for e in _parts("idea").values())
    return [
        "DELETE FROM call_figures_tally",
        f"INSERT INTO call_figures_tally (call_id, shard, {', '.join(COLUMNS)}) "
        f"SELECT call_id, id % {SHARDS}, {sums} FROM idea WHERE {_public('idea')} GROUP BY call_id, id % {SHARDS}",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "call_figures_tally",
        sa.Column("call_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("shard", sa.Integer(), nullable=False, autoincrement=False),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in COLUMNS),
        sa.PrimaryKeyConstraint("call_id", "shard", name=op.f("pk_call_figures_tally")),
    )
    if dialect == "postgresql":
        # Writers of ideas wait from here to the commit: an idea or a support committed between
        # the backfill's count and the trigger's creation would be in neither (see 0042). On
        # SQLite the backfill's first statement takes the only writer's lock.
        op.execute("LOCK TABLE idea IN SHARE ROW EXCLUSIVE MODE")
    for statement in backfill():
        op.execute(statement)
    for statement in triggers(dialect):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, names in TRIGGER_NAMES.items():
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("call_figures_tally")

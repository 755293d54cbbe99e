"""The home page's key figures kept by triggers: per-person participation, sharded totals

Revision ID: 0042
Revises: 0041
Create Date: 2026-11-30 21:15:00

app.pages.home.key_figures counted on every uncached render the public ideas and the sum of
their `vote_count` (a scan of every public idea) and the participants, the distinct authors of
public ideas and supporters of any idea (a UNION over the whole `vote` table): 16.2 s for the
first home visit at 1,000,000 ideas and 10,000,000 supports, after every support (issue 14).
They are now kept by triggers, as the dialogue figures are (migration 0041), so that every
writer keeps them exact: the services, core UPDATEs, merges, account deletion (its votes and its
ideas' author go by the foreign keys' CASCADE and SET NULL), bulk inserts (the benchmark's fill
drops these triggers for its load and runs backfill() after it instead: bench/dataset.py).

- `participation`: per person, their public ideas (status published or merged, not hidden:
  app.idea.queries.public_condition) and the supports they gave (votes on any idea). A person is a
  participant while either is above zero.
- `key_figures_tally`: the figures in up to SHARDS rows, the sums over all rows: public ideas and
  the sum of their `vote_count`, in the row of the idea's id modulo SHARDS; people whose
  participation went from zero to one (+1) or back (-1), in the row of the idea or the vote that
  moved it (any row would do: only the sum means something, and one idea's writes then lock one
  row).

Each trigger takes away what the row contributed before the write and adds what it contributes
after; a participation step is always one unit, so that "now 1" after an increment and "now 0"
after a decrement are exactly the crossings. Rows are locked in one order on PostgreSQL: the
idea, then the person's participation, then the tally row (a vote's trigger locks its idea
first: see PG_SUPPORTER), so that supports, withdrawals and decisions on one idea never deadlock;
a statement writing many ideas' rows at once (a merge, an account's deletion) takes several tally
rows in its own order and may, rarely, meet another such statement in a deadlock, which
PostgreSQL breaks by failing one of them. A support costs one more row update on `vote`'s
insert (the person's participation) and one on the idea's `vote_count` update (its shard).

Measured with `scripts/bench_key_figures.py` (100,000 ideas, 1,000,000 supports, 20,000 people;
a 2-core machine shared with other work, load 3.5 to 6): the key figures 327 ms -> 0.25 ms on
SQLite, 318 ms -> 0.55 ms on PostgreSQL (after VACUUM ANALYZE); a support (its vote's insert and
its idea's counter, within one transaction) 127 -> 214 us on SQLite, 368 -> 600 us on PostgreSQL.

On SQLite a migration that rebuilds `idea` or `vote` (batch mode) drops their triggers: it must
create them again (TRIGGER_NAMES, triggers() below; tests/pages/test_key_figures_tallies.py
checks that they exist at the head of the chain).
"""

# ruff: noqa: S608 - every statement is built from this module's constants, no value from outside
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On PostgreSQL a row updated many times in one transaction leaves versions the next update
# walks past (quadratic in a bulk load's updates per row, see 0041); the rows also spread the
# row locks writers of different ideas hold to their commit. The figures read all of them.
SHARDS = 256
PUBLIC = "({r}.status IN ('published', 'merged') AND {r}.hidden_at IS NULL)"


def _public(r: str) -> str:
    return PUBLIC.format(r=r)


def _ensure_shard(shard: str, dialect: str) -> str:
    # Not INSERT OR IGNORE on SQLite: a trigger's conflict clause yields to the firing
    # statement's (see 0041).
    if dialect == "sqlite":
        return (f"INSERT INTO key_figures_tally (shard) SELECT {shard} "
                f"WHERE NOT EXISTS (SELECT 1 FROM key_figures_tally WHERE shard = {shard});")
    return f"INSERT INTO key_figures_tally (shard) VALUES ({shard}) ON CONFLICT (shard) DO NOTHING;"


def _ensure_person(person: str, guard: str, dialect: str) -> str:
    if dialect == "sqlite":
        return (f"INSERT INTO participation (user_id) SELECT {person} WHERE {guard} "
                f"AND NOT EXISTS (SELECT 1 FROM participation WHERE user_id = {person});")
    return f"INSERT INTO participation (user_id) SELECT {person} WHERE {guard} ON CONFLICT (user_id) DO NOTHING;"


def _counts(r: str, sign: str, dialect: str) -> str:
    """Idea row `r` (NEW, OLD) adds to (sign +) or takes from (-) its shard: 1 public idea and
    its supports, if public."""
    shard = f"{r}.id % {SHARDS}"
    return (f"{_ensure_shard(shard, dialect)} UPDATE key_figures_tally SET "
            f"ideas = ideas {sign} (CASE WHEN {_public(r)} THEN 1 ELSE 0 END), "
            f"supports = supports {sign} (CASE WHEN {_public(r)} THEN {r}.vote_count ELSE 0 END) "
            f"WHERE shard = {shard};")


def _step(person: str, column: str, sign: str, guard: str, shard: str, dialect: str) -> str:
    """One unit more (sign +) or less (-) of `column` for `person` if `guard`, and the
    participants' count moved in row `shard` if the person's participation crossed zero."""
    crossed = "1" if sign == "+" else "0"
    return (f"{_ensure_person(person, guard, dialect) if sign == '+' else ''} "
            f"UPDATE participation SET {column} = {column} {sign} 1 WHERE user_id = {person} AND {guard}; "
            f"{_ensure_shard(shard, dialect)} "
            f"UPDATE key_figures_tally SET participants = participants {sign} 1 WHERE shard = {shard} AND {guard} "
            f"AND (SELECT public_ideas + supports FROM participation WHERE user_id = {person}) = {crossed};")


def _author(r: str, sign: str, dialect: str) -> str:
    """Idea row `r`'s author has one public idea more or less, if `r` is public and has one."""
    return _step(f"{r}.author_id", "public_ideas", sign, f"{_public(r)} AND {r}.author_id IS NOT NULL",
                 f"{r}.id % {SHARDS}", dialect)


def _supporter(r: str, sign: str, dialect: str) -> str:
    """Vote row `r`'s person has given one support more or less (on any idea)."""
    return _step(f"{r}.user_id", "supports", sign, "1 = 1", f"{r}.idea_id % {SHARDS}", dialect)


COUNTS_CHANGED = ("(CASE WHEN {o} THEN 1 ELSE 0 END) <> (CASE WHEN {n} THEN 1 ELSE 0 END) "
                  "OR (CASE WHEN {o} THEN OLD.vote_count ELSE 0 END) <> (CASE WHEN {n} THEN NEW.vote_count ELSE 0 END)"
                  ).format(o=_public("OLD"), n=_public("NEW"))
AUTHOR_CHANGED = ("(CASE WHEN {o} THEN OLD.author_id END) IS NOT (CASE WHEN {n} THEN NEW.author_id END)"
                  ).format(o=_public("OLD"), n=_public("NEW"))
HAS_AUTHOR = "{p} AND {r}.author_id IS NOT NULL"


def _sqlite_triggers() -> list[str]:
    d = "sqlite"
    return [
        f"CREATE TRIGGER trg_idea_figures_insert AFTER INSERT ON idea WHEN {_public('NEW')} "
        f"BEGIN {_counts('NEW', '+', d)} END",
        f"CREATE TRIGGER trg_idea_figures_delete AFTER DELETE ON idea WHEN {_public('OLD')} "
        f"BEGIN {_counts('OLD', '-', d)} END",
        f"CREATE TRIGGER trg_idea_figures_update AFTER UPDATE OF status, hidden_at, vote_count ON idea "
        f"WHEN {COUNTS_CHANGED} BEGIN {_counts('OLD', '-', d)} {_counts('NEW', '+', d)} END",
        f"CREATE TRIGGER trg_idea_author_insert AFTER INSERT ON idea "
        f"WHEN {HAS_AUTHOR.format(p=_public('NEW'), r='NEW')} BEGIN {_author('NEW', '+', d)} END",
        f"CREATE TRIGGER trg_idea_author_delete AFTER DELETE ON idea "
        f"WHEN {HAS_AUTHOR.format(p=_public('OLD'), r='OLD')} BEGIN {_author('OLD', '-', d)} END",
        f"CREATE TRIGGER trg_idea_author_update AFTER UPDATE OF status, hidden_at, author_id ON idea "
        f"WHEN {AUTHOR_CHANGED} BEGIN {_author('OLD', '-', d)} {_author('NEW', '+', d)} END",
        f"CREATE TRIGGER trg_vote_figures_insert AFTER INSERT ON vote BEGIN {_supporter('NEW', '+', d)} END",
        f"CREATE TRIGGER trg_vote_figures_delete AFTER DELETE ON vote BEGIN {_supporter('OLD', '-', d)} END",
        f"CREATE TRIGGER trg_vote_figures_update AFTER UPDATE OF user_id ON vote WHEN OLD.user_id <> NEW.user_id "
        f"BEGIN {_supporter('OLD', '-', d)} {_supporter('NEW', '+', d)} END",
    ]


def _pg_add(table: str, key: str, value: str, sets: str) -> str:
    """PL/pgSQL: `sets` on the row of `table` whose `key` is `value`, made first if missing (one
    statement when the row exists, as it nearly always does)."""
    return (f"UPDATE {table} SET {sets} WHERE {key} = {value}; IF NOT FOUND THEN "
            f"INSERT INTO {table} ({key}) VALUES ({value}) ON CONFLICT ({key}) DO NOTHING; "
            f"UPDATE {table} SET {sets} WHERE {key} = {value}; END IF;")


def _pg_step(person: str, column: str, sign: str, shard: str) -> str:
    """PL/pgSQL: `_step` in two statements at most: the person's row, read back (RETURNING), and
    the tally row only when the participation crossed zero."""
    crossed = "1" if sign == "+" else "0"
    made = (f"IF NOT FOUND THEN INSERT INTO participation (user_id, {column}) VALUES ({person}, 1) "
            f"ON CONFLICT (user_id) DO UPDATE SET {column} = participation.{column} + 1 "
            "RETURNING public_ideas + supports INTO total; END IF; " if sign == "+" else "")
    return (f"UPDATE participation SET {column} = {column} {sign} 1 WHERE user_id = {person} "
            f"RETURNING public_ideas + supports INTO total; {made}"
            f"IF total = {crossed} THEN "
            f"{_pg_add('key_figures_tally', 'shard', shard, f'participants = participants {sign} 1')} END IF;")


def _pg_function(name: str, body: str, declare: str = "total integer;") -> str:
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE {declare} "
            f"BEGIN {body} RETURN NULL; END $$")


# The same contributions as SQLite's triggers, each row's in as few statements as PL/pgSQL allows
# (a support: the idea's lock, the person's row, the idea's tally row). NEW is NULL in a DELETE
# trigger and OLD in an INSERT trigger.
PG_COUNTS = (
    "IF TG_OP <> 'INSERT' AND {old} THEN d_ideas := d_ideas - 1; d_supports := d_supports - OLD.vote_count; "
    "END IF; IF TG_OP <> 'DELETE' AND {new} THEN d_ideas := d_ideas + 1; d_supports := d_supports + NEW.vote_count; "
    "END IF; IF d_ideas <> 0 OR d_supports <> 0 THEN {add} END IF;"
).format(old=_public("OLD"), new=_public("NEW"),
         add=_pg_add("key_figures_tally", "shard", f"(CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END) % {SHARDS}",
                     "ideas = ideas + d_ideas, supports = supports + d_supports"))
PG_AUTHOR = (f"IF TG_OP <> 'INSERT' AND {_public('OLD')} AND OLD.author_id IS NOT NULL THEN "
             f"{_pg_step('OLD.author_id', 'public_ideas', '-', f'OLD.id % {SHARDS}')} END IF; "
             f"IF TG_OP <> 'DELETE' AND {_public('NEW')} AND NEW.author_id IS NOT NULL THEN "
             f"{_pg_step('NEW.author_id', 'public_ideas', '+', f'NEW.id % {SHARDS}')} END IF;")
# The idea's row is locked first: every writer then takes the rows in one order, the idea, the
# person's participation, the tally row. A support locks the idea before its vote's insert; a
# withdrawal deletes its vote before it moves the idea's counter, and would otherwise hold the
# tally row while waiting for the idea that a supporter holds while waiting for the tally row
# (tests/vote/test_parallel_votes.py). SQLite has one writer at a time.
PG_SUPPORTER = ("PERFORM 1 FROM idea WHERE id = (CASE WHEN TG_OP = 'DELETE' THEN OLD.idea_id ELSE NEW.idea_id END) "
                "FOR NO KEY UPDATE; "
                f"IF TG_OP <> 'INSERT' THEN {_pg_step('OLD.user_id', 'supports', '-', f'OLD.idea_id % {SHARDS}')} "
                f"END IF; IF TG_OP <> 'DELETE' THEN "
                f"{_pg_step('NEW.user_id', 'supports', '+', f'NEW.idea_id % {SHARDS}')} END IF;")


def _pg_triggers() -> list[str]:
    author_changed = AUTHOR_CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")
    return [
        _pg_function("idea_key_figures", PG_COUNTS, "d_ideas integer := 0; d_supports integer := 0;"),
        _pg_function("idea_author_key_figures", PG_AUTHOR),
        _pg_function("vote_key_figures", PG_SUPPORTER),
        f"CREATE TRIGGER trg_idea_figures_insert AFTER INSERT ON idea FOR EACH ROW WHEN ({_public('NEW')}) "
        "EXECUTE FUNCTION idea_key_figures()",
        f"CREATE TRIGGER trg_idea_figures_delete AFTER DELETE ON idea FOR EACH ROW WHEN ({_public('OLD')}) "
        "EXECUTE FUNCTION idea_key_figures()",
        "CREATE TRIGGER trg_idea_figures_update AFTER UPDATE OF status, hidden_at, vote_count ON idea FOR EACH ROW "
        f"WHEN ({COUNTS_CHANGED}) EXECUTE FUNCTION idea_key_figures()",
        "CREATE TRIGGER trg_idea_author_insert AFTER INSERT ON idea FOR EACH ROW "
        f"WHEN ({HAS_AUTHOR.format(p=_public('NEW'), r='NEW')}) EXECUTE FUNCTION idea_author_key_figures()",
        "CREATE TRIGGER trg_idea_author_delete AFTER DELETE ON idea FOR EACH ROW "
        f"WHEN ({HAS_AUTHOR.format(p=_public('OLD'), r='OLD')}) EXECUTE FUNCTION idea_author_key_figures()",
        "CREATE TRIGGER trg_idea_author_update AFTER UPDATE OF status, hidden_at, author_id ON idea FOR EACH ROW "
        f"WHEN ({author_changed}) EXECUTE FUNCTION idea_author_key_figures()",
        "CREATE TRIGGER trg_vote_figures_insert AFTER INSERT ON vote FOR EACH ROW EXECUTE FUNCTION vote_key_figures()",
        "CREATE TRIGGER trg_vote_figures_delete AFTER DELETE ON vote FOR EACH ROW EXECUTE FUNCTION vote_key_figures()",
        "CREATE TRIGGER trg_vote_figures_update AFTER UPDATE OF user_id ON vote FOR EACH ROW "
        "WHEN (OLD.user_id <> NEW.user_id) EXECUTE FUNCTION vote_key_figures()",
    ]


def triggers(dialect: str) -> list[str]:
    """The statements creating the triggers (and on PostgreSQL their functions) on `dialect`."""
    return _pg_triggers() if dialect == "postgresql" else _sqlite_triggers()


TRIGGER_NAMES = {"idea": ("trg_idea_figures_insert", "trg_idea_figures_delete", "trg_idea_figures_update",
                          "trg_idea_author_insert", "trg_idea_author_delete", "trg_idea_author_update"),
                 "vote": ("trg_vote_figures_insert", "trg_vote_figures_delete", "trg_vote_figures_update")}
PG_FUNCTIONS = ("idea_key_figures", "idea_author_key_figures", "vote_key_figures")


def backfill() -> list[str]:
    """The statements computing the participation and the tallies from the rows (no trigger of
    this revision yet), set-based: one pass over the votes by their index on `user_id`, one over
    the public ideas. The participants all go to row 0."""
    public = _public("idea")
    return [
        "DELETE FROM participation",
        "DELETE FROM key_figures_tally",
        "INSERT INTO participation (user_id, supports) SELECT user_id, count(*) FROM vote GROUP BY user_id",
        "INSERT INTO participation (user_id, public_ideas) SELECT author_id, count(*) FROM idea "
        f"WHERE {public} AND author_id IS NOT NULL GROUP BY author_id "
        "ON CONFLICT (user_id) DO UPDATE SET public_ideas = excluded.public_ideas",
        f"INSERT INTO key_figures_tally (shard, ideas, supports) SELECT id % {SHARDS}, count(*), sum(vote_count) "
        f"FROM idea WHERE {public} GROUP BY id % {SHARDS}",
        "INSERT INTO key_figures_tally (shard) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM key_figures_tally "
        "WHERE shard = 0)",
        "UPDATE key_figures_tally SET participants = (SELECT count(*) FROM participation "
        "WHERE public_ideas + supports > 0) WHERE shard = 0",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "participation",
        sa.Column("user_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("public_ideas", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("supports", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_participation")),
    )
    op.create_table(
        "key_figures_tally",
        sa.Column("shard", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("ideas", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("supports", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("participants", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("shard", name=op.f("pk_key_figures_tally")),
    )
    if dialect == "postgresql":
        # Writers wait from here to the commit: a support or an idea committed between the
        # backfill's count and its table's trigger would be in neither (the lock CREATE TRIGGER
        # takes anyway, taken before counting; readers go on). On SQLite the backfill's first
        # statement takes the only writer's lock, held to the triggers' creation in the same
        # transaction. tests/pages/test_key_figures_races.py.
        op.execute("LOCK TABLE idea, vote IN SHARE ROW EXCLUSIVE MODE")
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
    op.drop_table("key_figures_tally")
    op.drop_table("participation")

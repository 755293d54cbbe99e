"""Dialogue figures kept by the database's own triggers: per-call tallies, per-idea comment counts

Revision ID: 0041
Revises: 0040
Create Date: 2026-11-30 18:10:00

app.moderation.dialogue.figures scanned every idea and comment of a call (or of the platform) on
each call page and home page, recomputed after every write (issue 14: 2.3 s for the platform at
100,000 ideas on SQLite). The figures are now kept by triggers, so that whatever writes (the
ORM, core UPDATEs, the benchmark's bulk inserts, merges, account deletion) keeps them exact:

- `idea.citizen_comments`, `idea.staff_comments`: the idea's shown comments (neither deleted nor
  hidden) by a citizen, by staff (an author whose role is *now* moderator or admin; a comment
  whose author deleted their account counts as neither). Kept by triggers on `comment` and, when
  a role crosses the staff line or a staff account row is deleted, on `user_account` (the
  person's comments move between both).
- `idea.first_answer_at`: the earliest audit entry "answer" of the idea (trigger on
  `audit_entry`); `idea.answer_days`: days from publication (else creation) to the first answer
  (else `answered_at`), for an answered idea, else NULL (a trigger on `idea`). The median reads
  the middle of the partial index `ix_idea_answer_days(_all)` with an OFFSET.
- `dialogue_tally`: per call, in SHARDS rows by idea id (see SHARDS), the sums over its ideas of what each contributes (published
  and visible; answered per status; with a delay; commented by citizens; of which staff replied;
  staff comments), changed by a trigger on `idea` by what the written row contributed before and
  after (no FK to `call`: a call's deletion deletes its ideas, whose triggers write its row).
- `ix_idea_unanswered(_all)`: the published, visible, unanswered ideas by date, to count those
  waiting since less than N days (the figure "waiting" depends on the clock).

Measured with `scripts/bench_dialogue.py` (100,000 ideas, 300,000 comments, a third answered; a
machine shared with other work): the platform's figures 3.0 s -> 9 ms and the largest call's
1.0 s -> 2.3 ms on SQLite; on PostgreSQL (after VACUUM ANALYZE) 1.15 s -> 18 ms and 0.5 s -> 3 ms
(37 ms before the median's indexes held the dates: it read 16,000 rows to skip them; 10 ms of the
18 is the tally table's sequential read, its pages bloated by the bulk load's updates).

On SQLite a migration that rebuilds one of `idea`, `comment`, `user_account`, `audit_entry`
(batch mode) drops its triggers: it must create them again (TRIGGERS below).
"""

# ruff: noqa: S608 - every statement is built from this module's constants, no value from outside
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("under_study", "accepted", "partly_accepted", "rejected", "implemented")
TALLY_COLUMNS = ("ideas", "unanswered", *(f"answered_{s}" for s in STATUSES), "delays", "commented_ideas",
                 "city_replied", "staff_comments")
VISIBLE_WHERE = "status = 'published' AND hidden_at IS NULL"
VISIBLE = "{r}.status = 'published' AND {r}.hidden_at IS NULL"


def _contribution(r: str) -> dict[str, str]:
    """What idea row `r` (NEW, OLD, idea) adds to its call's tally, column by column."""
    v = VISIBLE.format(r=r)
    parts = {"ideas": f"CASE WHEN {v} THEN 1 ELSE 0 END",
             "unanswered": f"CASE WHEN {v} AND {r}.answer_status IS NULL THEN 1 ELSE 0 END"}
    for s in STATUSES:
        parts[f"answered_{s}"] = f"CASE WHEN {v} AND {r}.answer_status = '{s}' THEN 1 ELSE 0 END"
    parts["delays"] = f"CASE WHEN {v} AND {r}.answer_days IS NOT NULL THEN 1 ELSE 0 END"
    parts["commented_ideas"] = f"CASE WHEN {v} AND {r}.citizen_comments > 0 THEN 1 ELSE 0 END"
    parts["city_replied"] = (f"CASE WHEN {v} AND {r}.citizen_comments > 0 AND {r}.staff_comments > 0 "
                             "THEN 1 ELSE 0 END")
    parts["staff_comments"] = f"CASE WHEN {v} THEN {r}.staff_comments ELSE 0 END"
    return parts


# A call's sums are spread over SHARDS rows (by idea id): on PostgreSQL every update of a row
# within one transaction leaves a version that the next one walks past, so that a bulk load of
# 100,000 ideas into one row per call was quadratic (the benchmark's fill did not end in 20
# minutes); it also spreads concurrent writers' row locks. figures() adds a call's rows.
SHARDS = 64


def _apply(r: str, sign: str, dialect: str) -> str:
    # Not INSERT OR IGNORE on SQLite: a trigger's conflict clause yields to the firing statement's
    # (a foreign key's SET NULL, an INSERT OR REPLACE), which would then fail or replace the row.
    key = f"call_id = {r}.call_id AND shard = {r}.id % {SHARDS}"
    ensure = (f"INSERT INTO dialogue_tally (call_id, shard) SELECT {r}.call_id, {r}.id % {SHARDS} "
              f"WHERE NOT EXISTS (SELECT 1 FROM dialogue_tally WHERE {key})" if dialect == "sqlite" else
              f"INSERT INTO dialogue_tally (call_id, shard) VALUES ({r}.call_id, {r}.id % {SHARDS}) "
              "ON CONFLICT (call_id, shard) DO NOTHING")
    sets = ", ".join(f"{c} = {c} {sign} ({e})" for c, e in _contribution(r).items())
    return f"{ensure}; UPDATE dialogue_tally SET {sets} WHERE {key};"


TALLY_CHANGED = " OR ".join([f"({o}) <> ({n})" for o, n in zip(_contribution("OLD").values(),
                                                                _contribution("NEW").values(), strict=True)]
                            + ["OLD.call_id <> NEW.call_id"])
TALLY_COLUMNS_READ = "status, hidden_at, answer_status, answer_days, citizen_comments, staff_comments, call_id"
DAYS_COLUMNS = "answer_status, first_answer_at, answered_at, published_at, created_at"


def _days(r: str, dialect: str) -> str:
    answered, start = (f"coalesce({r}.first_answer_at, {r}.answered_at)",
                       f"coalesce({r}.published_at, {r}.created_at)")
    delay = (f"julianday({answered}) - julianday({start})" if dialect == "sqlite" else
             f"CAST(EXTRACT(EPOCH FROM {answered} - {start}) AS double precision) / 86400.0")
    return f"(CASE WHEN {r}.answer_status IS NOT NULL THEN {delay} END)"


STAFF_ROLES = "('moderator', 'admin')"


def _comment_parts(r: str) -> tuple[str, str]:
    shown = f"{r}.deleted_at IS NULL AND {r}.hidden_at IS NULL"
    staff = f"EXISTS (SELECT 1 FROM user_account u WHERE u.id = {r}.author_id AND u.role IN {STAFF_ROLES})"
    return (f"CASE WHEN {shown} AND {r}.author_id IS NOT NULL AND NOT {staff} THEN 1 ELSE 0 END",
            f"CASE WHEN {shown} AND {staff} THEN 1 ELSE 0 END")


def _comment_apply(r: str, sign: str) -> str:
    citizen, staff = _comment_parts(r)
    return (f"UPDATE idea SET citizen_comments = citizen_comments {sign} {citizen}, "
            f"staff_comments = staff_comments {sign} {staff} WHERE id = {r}.idea_id;")


COMMENT_SHOWN = "{r}.deleted_at IS NULL AND {r}.hidden_at IS NULL"
COMMENT_CHANGED = ("OLD.idea_id <> NEW.idea_id OR OLD.author_id IS NOT NEW.author_id "
                   "OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL) "
                   "OR (OLD.hidden_at IS NULL) <> (NEW.hidden_at IS NULL)")


def _role_moves(r: str, to_citizen: bool) -> str:
    """The shown comments of person `r` move from staff to citizen (or back) on every idea."""
    mine = (f"FROM comment c WHERE c.author_id = {r}.id AND c.deleted_at IS NULL AND c.hidden_at IS NULL")
    n = f"(SELECT count(*) {mine} AND c.idea_id = idea.id)"
    plus, minus = ("+", "-") if to_citizen else ("-", "+")
    return (f"UPDATE idea SET citizen_comments = citizen_comments {plus} {n}, "
            f"staff_comments = staff_comments {minus} {n} WHERE id IN (SELECT c.idea_id {mine});")


STAFF = "{r}.role IN " + STAFF_ROLES
FIRST_ANSWER = ("UPDATE idea SET first_answer_at = NEW.created_at WHERE id = NEW.target_id "
                "AND (first_answer_at IS NULL OR first_answer_at > NEW.created_at);")
IS_ANSWER = "NEW.action = 'answer' AND NEW.target_type = 'idea'"


def _sqlite_triggers() -> list[str]:
    return [
        # A draft, a hidden idea... contributes nothing: its call's row is not written (on
        # PostgreSQL, not locked to the commit).
        f"CREATE TRIGGER trg_idea_tally_insert AFTER INSERT ON idea WHEN {VISIBLE.format(r='NEW')} "
        f"BEGIN {_apply('NEW', '+', 'sqlite')} END",
        f"CREATE TRIGGER trg_idea_tally_delete AFTER DELETE ON idea WHEN {VISIBLE.format(r='OLD')} "
        f"BEGIN {_apply('OLD', '-', 'sqlite')} END",
        f"CREATE TRIGGER trg_idea_tally_update AFTER UPDATE OF {TALLY_COLUMNS_READ} ON idea WHEN {TALLY_CHANGED} "
        f"BEGIN {_apply('OLD', '-', 'sqlite')} {_apply('NEW', '+', 'sqlite')} END",
        # SQLite's BEFORE triggers cannot set NEW: the row is written again (a no-op for the tally
        # trigger's WHEN unless the delay's presence changes).
        f"CREATE TRIGGER trg_idea_answer_days_insert AFTER INSERT ON idea WHEN {_days('NEW', 'sqlite')} IS NOT NULL "
        f"BEGIN UPDATE idea SET answer_days = {_days('idea', 'sqlite')} WHERE id = NEW.id; END",
        f"CREATE TRIGGER trg_idea_answer_days_update AFTER UPDATE OF {DAYS_COLUMNS} ON idea "
        f"WHEN NEW.answer_days IS NOT {_days('NEW', 'sqlite')} "
        f"BEGIN UPDATE idea SET answer_days = {_days('idea', 'sqlite')} WHERE id = NEW.id; END",
        f"CREATE TRIGGER trg_comment_tally_insert AFTER INSERT ON comment WHEN {COMMENT_SHOWN.format(r='NEW')} "
        f"BEGIN {_comment_apply('NEW', '+')} END",
        f"CREATE TRIGGER trg_comment_tally_delete AFTER DELETE ON comment WHEN {COMMENT_SHOWN.format(r='OLD')} "
        f"BEGIN {_comment_apply('OLD', '-')} END",
        f"CREATE TRIGGER trg_comment_tally_update AFTER UPDATE OF idea_id, author_id, deleted_at, hidden_at "
        f"ON comment WHEN {COMMENT_CHANGED} BEGIN {_comment_apply('OLD', '-')} {_comment_apply('NEW', '+')} END",
        _sqlite_role_trigger(),
        # An account row deleted (the platform anonymises instead, app.account.privacy): its
        # comments lose their author by the foreign key's SET NULL, whose triggers no longer
        # find the account and take them back as citizens' comments; they are made so first.
        f"CREATE TRIGGER trg_user_delete_tally BEFORE DELETE ON user_account WHEN {STAFF.format(r='OLD')} "
        f"BEGIN {_role_moves('OLD', True)} END",
        f"CREATE TRIGGER trg_audit_first_answer AFTER INSERT ON audit_entry WHEN {IS_ANSWER} "
        f"BEGIN {FIRST_ANSWER} END",
    ]


def _sqlite_role_trigger() -> str:
    # Two statements guarded by the direction of the change (a trigger has one WHEN).
    moves_out = _role_moves("NEW", True).rstrip(";")
    moves_in = _role_moves("NEW", False).rstrip(";")
    old_staff, new_staff = STAFF.format(r="OLD"), STAFF.format(r="NEW")
    return (f"CREATE TRIGGER trg_user_role_tally AFTER UPDATE OF role ON user_account "
            f"WHEN ({old_staff}) <> ({new_staff}) BEGIN "
            f"{moves_out} AND ({old_staff}); {moves_in} AND ({new_staff}); END")


def _pg_function(name: str, body: str) -> str:
    return f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} END $$"


def _pg_triggers() -> list[str]:
    return [
        _pg_function("idea_dialogue_tally",
                     f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_apply('OLD', '-', 'postgresql')} END IF; "
                     f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_apply('NEW', '+', 'postgresql')} END IF; "
                     "RETURN NULL;"),
        f"CREATE TRIGGER trg_idea_tally_insert AFTER INSERT ON idea FOR EACH ROW WHEN ({VISIBLE.format(r='NEW')}) "
        "EXECUTE FUNCTION idea_dialogue_tally()",
        f"CREATE TRIGGER trg_idea_tally_delete AFTER DELETE ON idea FOR EACH ROW WHEN ({VISIBLE.format(r='OLD')}) "
        "EXECUTE FUNCTION idea_dialogue_tally()",
        f"CREATE TRIGGER trg_idea_tally_update AFTER UPDATE OF {TALLY_COLUMNS_READ} ON idea FOR EACH ROW "
        f"WHEN ({TALLY_CHANGED}) EXECUTE FUNCTION idea_dialogue_tally()",
        _pg_function("idea_answer_days", f"NEW.answer_days := {_days('NEW', 'postgresql')}; RETURN NEW;"),
        "CREATE TRIGGER trg_idea_answer_days_insert BEFORE INSERT ON idea FOR EACH ROW "
        "EXECUTE FUNCTION idea_answer_days()",
        f"CREATE TRIGGER trg_idea_answer_days_update BEFORE UPDATE OF {DAYS_COLUMNS} ON idea FOR EACH ROW "
        "EXECUTE FUNCTION idea_answer_days()",
        _pg_function("comment_dialogue_tally",
                     f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_comment_apply('OLD', '-')} END IF; "
                     f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_comment_apply('NEW', '+')} END IF; "
                     "RETURN NULL;"),
        "CREATE TRIGGER trg_comment_tally_insert AFTER INSERT ON comment FOR EACH ROW "
        f"WHEN ({COMMENT_SHOWN.format(r='NEW')}) EXECUTE FUNCTION comment_dialogue_tally()",
        "CREATE TRIGGER trg_comment_tally_delete AFTER DELETE ON comment FOR EACH ROW "
        f"WHEN ({COMMENT_SHOWN.format(r='OLD')}) EXECUTE FUNCTION comment_dialogue_tally()",
        "CREATE TRIGGER trg_comment_tally_update AFTER UPDATE OF idea_id, author_id, deleted_at, hidden_at "
        f"ON comment FOR EACH ROW WHEN ({COMMENT_CHANGED.replace(' IS NOT ', ' IS DISTINCT FROM ')}) "
        "EXECUTE FUNCTION comment_dialogue_tally()",
        _pg_function("user_role_tally",
                     f"IF {STAFF.format(r='OLD')} THEN {_role_moves('NEW', True)} "
                     f"ELSE {_role_moves('NEW', False)} END IF; RETURN NULL;"),
        "CREATE TRIGGER trg_user_role_tally AFTER UPDATE OF role ON user_account FOR EACH ROW "
        f"WHEN (({STAFF.format(r='OLD')}) <> ({STAFF.format(r='NEW')})) EXECUTE FUNCTION user_role_tally()",
        _pg_function("user_delete_tally", f"{_role_moves('OLD', True)} RETURN OLD;"),
        "CREATE TRIGGER trg_user_delete_tally BEFORE DELETE ON user_account FOR EACH ROW "
        f"WHEN ({STAFF.format(r='OLD')}) EXECUTE FUNCTION user_delete_tally()",
        _pg_function("audit_first_answer", f"{FIRST_ANSWER} RETURN NULL;"),
        f"CREATE TRIGGER trg_audit_first_answer AFTER INSERT ON audit_entry FOR EACH ROW WHEN ({IS_ANSWER}) "
        "EXECUTE FUNCTION audit_first_answer()",
    ]


def triggers(dialect: str) -> list[str]:
    """The statements creating the triggers (and on PostgreSQL their functions) on `dialect`."""
    if dialect == "postgresql":
        return _pg_triggers()
    return _sqlite_triggers()


TRIGGER_NAMES = {"idea": ("trg_idea_tally_insert", "trg_idea_tally_delete", "trg_idea_tally_update",
                          "trg_idea_answer_days_insert", "trg_idea_answer_days_update"),
                 "comment": ("trg_comment_tally_insert", "trg_comment_tally_delete", "trg_comment_tally_update"),
                 "user_account": ("trg_user_role_tally", "trg_user_delete_tally"),
                 "audit_entry": ("trg_audit_first_answer",)}
PG_FUNCTIONS = ("idea_dialogue_tally", "idea_answer_days", "comment_dialogue_tally", "user_role_tally",
                "user_delete_tally", "audit_first_answer")


def backfill(dialect: str) -> list[str]:
    """The statements computing every kept value from the rows (the triggers not yet created)."""
    citizen, staff = _comment_parts("c")
    tally = ", ".join(f"SUM({e})" for e in _contribution("idea").values())
    return [
        f"UPDATE idea SET citizen_comments = (SELECT coalesce(SUM({citizen}), 0) FROM comment c "
        f"WHERE c.idea_id = idea.id), staff_comments = (SELECT coalesce(SUM({staff}), 0) FROM comment c "
        "WHERE c.idea_id = idea.id) WHERE id IN (SELECT idea_id FROM comment)",
        "UPDATE idea SET first_answer_at = (SELECT min(a.created_at) FROM audit_entry a WHERE a.action = 'answer' "
        "AND a.target_type = 'idea' AND a.target_id = idea.id) WHERE id IN (SELECT target_id FROM audit_entry "
        "WHERE action = 'answer' AND target_type = 'idea')",
        f"UPDATE idea SET answer_days = {_days('idea', dialect)} WHERE answer_status IS NOT NULL",
        "DELETE FROM dialogue_tally",
        f"INSERT INTO dialogue_tally (call_id, shard, {', '.join(TALLY_COLUMNS)}) "
        f"SELECT call_id, id % {SHARDS}, {tally} FROM idea GROUP BY call_id, id % {SHARDS}",
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "dialogue_tally",
        sa.Column("call_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("shard", sa.Integer(), nullable=False, autoincrement=False),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in TALLY_COLUMNS),
        sa.PrimaryKeyConstraint("call_id", "shard", name=op.f("pk_dialogue_tally")),
    )
    op.add_column("idea", sa.Column("citizen_comments", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("idea", sa.Column("staff_comments", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("idea", sa.Column("first_answer_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column("idea", sa.Column("answer_days", sa.Float(), nullable=True))
    for statement in backfill(dialect):
        op.execute(statement)
    visible = sa.text(VISIBLE_WHERE + " AND answer_days IS NOT NULL")
    unanswered = sa.text(VISIBLE_WHERE + " AND answer_status IS NULL")
    # The dates the median is computed from too: its OFFSET skips index entries, not table rows.
    dates = ["published_at", "created_at", "first_answer_at", "answered_at"]
    op.create_index("ix_idea_answer_days", "idea", ["call_id", "answer_days", *dates],
                    sqlite_where=visible, postgresql_where=visible)
    op.create_index("ix_idea_answer_days_all", "idea", ["answer_days", *dates],
                    sqlite_where=visible, postgresql_where=visible)
    op.create_index("ix_idea_unanswered", "idea", ["call_id", "published_at", "created_at"],
                    sqlite_where=unanswered, postgresql_where=unanswered)
    op.create_index("ix_idea_unanswered_all", "idea", ["published_at", "created_at"],
                    sqlite_where=unanswered, postgresql_where=unanswered)
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
    for name in ("ix_idea_answer_days", "ix_idea_answer_days_all", "ix_idea_unanswered", "ix_idea_unanswered_all"):
        op.drop_index(name, table_name="idea")
    for column in ("citizen_comments", "staff_comments", "first_answer_at", "answer_days"):
        op.drop_column("idea", column)
    op.drop_table("dialogue_tally")

"""A benchmark database, filled quickly with bulk inserts (COPY on PostgreSQL, one executemany
on SQLite, committed every few thousand rows; no ORM objects kept), consistent as the platform
keeps it: counters equal to their rows, every idea's stored HTML and card excerpt, the search
index rebuilt with `reinventons reindex`'s code.
The dialogue figures' triggers (migration 0041) follow these inserts as they follow any write.
The home page's key figures' triggers (0042) and the calls' figures' (0044) are dropped for the
load and created again after it, as the database had them, once each migration's own backfill has
counted the rows (one pass over the votes and the ideas, under a second at 100,000 ideas and
1,000,000 supports; 0044's one pass over the public ideas). With 0042's alone, following each
of a million supports made that fill 346 s on SQLite where it took 195 to 306 s without (machine
load 4 to 6; scripts/bench_key_figures.py --fill-with-triggers); on PostgreSQL 324 s with them,
357 s without (no difference beyond the machine's noise). tests/bench checks the figures
equal a count of the rows after a fill.

Every call is open for supports with no limit per person, so that the run's supports never hit
a limit; the first call holds the idea with exactly 50 comments measured as "an idea page".
"""

import importlib.util
import json
import math
import random
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from app import migrate
from app.account.models import User, UserSession
from app.call.models import Call, Category, District
from app.clock import utcnow
from app.comment.models import Comment
from app.db import Database
from app.idea.models import Idea, card_excerpt
from app.richtext import render_markdown
from app.search import indexing
from app.security import csrf_token_for, hash_token
from app.settings import Settings
from app.vote.models import Vote

WORDS = (
    "parc arbre banc vélo piste trottoir école crèche bibliothèque piscine marché quartier rue place fontaine "
    "éclairage sécurité propreté compost jardin potager ombre fleur jeu enfant senior rampe bus arrêt tram navette "
    "parking circulation vitesse bruit air énergie solaire panneau toit isolation eau pluie pont quai Meuse berge "
    "promenade musée concert fête sport terrain skate salle voisin solidarité repas épicerie commerce emploi wifi"
).split()
BATCH = 5_000
POSTERS = 5_000  # citizens without supports who post during the run (supports, comments)
# Distinct idea bodies and comments, each rendered once and shared by many rows (titles stay
# distinct): rendering each row's Markdown took 350 µs an idea and 100 µs a comment, 11 minutes
# of a million ideas' and three million comments' fill.
TEXTS = 4_096


@dataclass(frozen=True)
class Size:
    ideas: int
    votes: int
    comments: int
    citizens: int
    calls: int


SIZES = {
    "small": Size(ideas=1_000, votes=10_000, comments=3_000, citizens=2_000, calls=5),
    "medium": Size(ideas=100_000, votes=1_000_000, comments=300_000, citizens=20_000, calls=20),
    "large": Size(ideas=1_000_000, votes=10_000_000, comments=3_000_000, citizens=200_000, calls=50),
}


@dataclass
class Filled:
    """What the run needs to know of the filled database."""

    call_slug: str  # the first call, the largest share of ideas
    theme_id: int
    district_id: int
    idea_with_50_comments: int
    ideas_of_first_call: int
    poster_cookies: list[tuple[str, str]] = field(default_factory=list)  # (Cookie header, CSRF token)
    target_ideas: list[int] = field(default_factory=list)  # public ideas the posters support
    seconds: float = 0.0
    found: "Size | None" = None  # what an existing database holds (`existing`)


def _rows(model: type[SQLModel], values: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Batches of complete rows of `model`, id left out. The first row is built by the model,
    whose defaults then fill every row (each value gives the same fields): building a model per
    row took 50 µs, 500 s of a fill's 10,000,000 supports."""
    template: dict[str, Any] | None = None
    batch: list[dict[str, Any]] = []
    for value in values:
        if template is None:
            template = model(**value).model_dump()
            template.pop("id", None)
        batch.append({**template, **value})
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy_value(value: Any) -> Any:
    """A row's value as PostgreSQL's COPY takes it: JSON as its text, an enum as its value."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value.value if isinstance(value, Enum) else value


def _insert(conn: sa.Connection, model: type[SQLModel], values: Iterator[dict[str, Any]]) -> None:
    """Insert every row of `values` into `model`'s table, committing every BATCH rows: by COPY
    on PostgreSQL (several times the rows per second of multi-row INSERTs), else one
    executemany. The commits keep the dialogue figures' triggers linear: within one transaction
    each update of a tally row leaves a version the next update walks past (migration 0041), and
    a million ideas in one COPY left their triggers' 1,000,000 updates over 3,200 rows running
    for more than 12 minutes, at two thirds."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    columns: list[str] = []
    for batch in _rows(model, values):
        if conn.dialect.name != "postgresql":
            conn.execute(table.insert(), batch)
        else:
            if not conn.in_transaction():  # a COPY through the driver's cursor does not begin one
                conn.begin()
            columns = columns or list(batch[0])
            names = ", ".join(f'"{column}"' for column in columns)
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in batch:
                    copy.write_row([_copy_value(row[column]) for column in columns])
        conn.commit()


def _ids(conn: sa.Connection, model: type[SQLModel], where: Any = None) -> list[int]:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    query = sa.select(table.c.id).order_by(table.c.id)
    return list(conn.execute(query if where is None else query.where(where)).scalars())


# The migrations whose triggers the fill drops for its load, then creates again after their own
# backfill() has counted the rows: the home page's key figures (0042) and the calls' figures (0044).
BACKFILLED = ("0042_key_figures_tallies", "0044_call_figures_tally")


def tally_migration(name: str) -> Any:
    """The module of migration `name` (a file name of BACKFILLED without ".py"): its
    TRIGGER_NAMES ({table: (trigger, ...)}) and backfill() (a list of SQL statements)."""
    path = migrate.MIGRATIONS_DIR / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def drop_tally_triggers(conn: sa.Connection, migrations: tuple[str, ...] = BACKFILLED) -> list[str]:
    """Drop the triggers of `migrations` (names of BACKFILLED) and return the statements creating
    them again, read from the database (as the latest migration left them). The drop is committed with
    the fill's first batch (SQLite's driver commits DDL at once): `_tallies_suspended` puts them back."""
    postgres = conn.dialect.name == "postgresql"
    created = []
    for name in migrations:
        for table, triggers in tally_migration(name).TRIGGER_NAMES.items():
            for trigger in triggers:
                created.append(conn.execute(
                    sa.text("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = :name "
                            "AND tgrelid = CAST(:table AS regclass)") if postgres else
                    sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name "
                            "AND tbl_name = :table"), {"name": trigger, "table": table}).scalar_one())
                conn.exec_driver_sql(f"DROP TRIGGER {trigger}" + (f" ON {table}" if postgres else ""))
    return created


@contextmanager
def _tallies_suspended(conn: sa.Connection, *, keep: bool) -> Iterator[None]:
    """The BACKFILLED migrations' triggers dropped for the load in the block, then their
    backfill() run and the triggers created again, committed, whether the block ended or
    raised: a fill interrupted (a million ideas take 40 minutes) leaves a database whose tallies
    follow its writes, not one whose figures read zero for good. `keep`: the triggers stay
    (they follow each row of the load), nothing else is done."""
    if keep:
        yield
        return
    recreate = drop_tally_triggers(conn)

    def restore() -> None:
        for statement in [*(s for name in BACKFILLED for s in tally_migration(name).backfill()), *recreate]:
            conn.execute(sa.text(statement))  # text(): '%' escaped for psycopg
        conn.commit()

    try:
        yield
    except BaseException:
        conn.rollback()  # a failed statement ends PostgreSQL's transaction: what committed stays
        restore()
        raise
    restore()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _step_coprime(n: int) -> int:
    """A step whose multiples visit every residue modulo n: j * step % n distinct for j < n."""
    for step in (104_729, 7_919, 1_009, 997, 101):
        if math.gcd(step, n) == 1:
            return step
    return 1


def fill(database_url: str, settings: Settings, size: Size, seed: int = 2017, *,
         tally_triggers: bool = False) -> Filled:
    """Migrate the (empty) database at `database_url` and fill it to `size`. Returns what the run
    needs: addresses to measure and the posters' cookies. `tally_triggers`: keep the BACKFILLED
    migrations' triggers during the load (slower; to measure them) instead of backfilling after it."""
    started = time.monotonic()
    rng = random.Random(seed)
    migrate.upgrade(database_url)
    engine = sa.create_engine(database_url)
    now = utcnow()
    day = timedelta(days=1)
    secret = settings.resolved_secret_key
    with engine.connect() as conn:  # committed as it goes (`_insert`): a failed fill is partial, to fill again
        with _tallies_suspended(conn, keep=tally_triggers):
            _insert(conn, Call, ({
                "slug": f"appel-{n}", "title": f"Appel à projets {n} : {_text(rng, 3)}", "summary": _text(rng, 12),
                "description_md": _text(rng, 60), "description_html": render_markdown(_text(rng, 60)),
                "submissions_start": now - 30 * day, "voting_start": now - day, "review_start": now + 30 * day,
                "results_start": now + 40 * day, "closes_at": now + 60 * day, "votes_per_citizen": 1_000_000,
                "voting_during_submissions": True, "vote_access": "email", "submit_access": "email",
            } for n in range(1, size.calls + 1)))
            calls = _ids(conn, Call)
            _insert(conn, Category, ({"call_id": call, "slug": f"theme-{n}", "name": f"Thème {n} {rng.choice(WORDS)}",
                                      "position": n} for call in calls for n in range(8)))
            _insert(conn, District, ({"slug": f"quartier-{n}", "name": f"Quartier {n}", "position": n}
                                     for n in range(12)))
            themes = _ids(conn, Category)
            districts = _ids(conn, District)
            _insert(conn, User, ({"email": f"citoyen{n}@bench.example", "display_name": f"Citoyen {n}",
                                  "email_verified_at": now - 60 * day, "created_at": now - 90 * day}
                                 for n in range(size.citizens + POSTERS)))
            people = _ids(conn, User)
            citizens, posters = people[:size.citizens], people[size.citizens:]

            # A third of the ideas in the first call (the list measured), the rest spread over the others.
            bodies = [f"{_text(rng, 40)}\n\n{_text(rng, 30)}" for _ in range(min(TEXTS, size.ideas))]
            idea_texts = [(body, html, card_excerpt(html)) for body in bodies for html in [render_markdown(body)]]

            def idea_values() -> Iterator[dict[str, Any]]:
                for n in range(size.ideas):
                    call_index = 0 if n % 3 == 0 or len(calls) == 1 else 1 + n % (len(calls) - 1)
                    body, html, excerpt = idea_texts[rng.randrange(len(idea_texts))]
                    yield {"call_id": calls[call_index], "author_id": citizens[n % len(citizens)],
                           "category_id": themes[call_index * 8 + n % 8], "district_id": districts[n % len(districts)],
                           "title": f"{_text(rng, 5)} {n}"[:120], "body_md": body, "body_html": html,
                           "excerpt": excerpt, "language": "fr", "status": "published",
                           "published_at": now - timedelta(minutes=n), "created_at": now - timedelta(minutes=n)}
            _insert(conn, Idea, idea_values())
            ideas = _ids(conn, Idea)
            idea_table: sa.Table = Idea.__table__  # type: ignore[attr-defined]
            facts = {row.id: (row.call_id, row.category_id) for row in
                     conn.execute(sa.select(idea_table.c.id, idea_table.c.call_id, idea_table.c.category_id))}
            step = _step_coprime(len(ideas))
            per_citizen = max(1, size.votes // len(citizens))

            def vote_values() -> Iterator[dict[str, Any]]:
                for user_index, user in enumerate(citizens):
                    for j in range(min(per_citizen, len(ideas))):
                        idea = ideas[(user_index + j * step) % len(ideas)]
                        call_id, category_id = facts[idea]
                        yield {"idea_id": idea, "user_id": user, "call_id": call_id, "category_id": category_id}
            _insert(conn, Vote, vote_values())
            first_call_ideas = _ids(conn, Idea, idea_table.c.call_id == calls[0])
            showcase = first_call_ideas[0]

            comment_texts = [(text, render_markdown(text)) for text in (_text(rng, 25) for _ in range(TEXTS))]

            def comment_values() -> Iterator[dict[str, Any]]:
                for n in range(size.comments):
                    text, html = comment_texts[rng.randrange(TEXTS)]
                    idea = showcase if n < 50 else ideas[1 + (n - 50) * 7 % (len(ideas) - 1)]
                    yield {"idea_id": idea, "author_id": citizens[n % len(citizens)], "body_md": text,
                           "body_html": html, "language": "fr"}
            _insert(conn, Comment, comment_values())
            # Counters equal to their rows, as the platform keeps them.
            votes: sa.Table = Vote.__table__  # type: ignore[attr-defined]
            comments: sa.Table = Comment.__table__  # type: ignore[attr-defined]
            conn.execute(idea_table.update().values(
                vote_count=sa.select(sa.func.count()).select_from(votes).where(votes.c.idea_id == idea_table.c.id)
                .scalar_subquery(),
                comment_count=sa.select(sa.func.count()).select_from(comments)
                .where(comments.c.idea_id == idea_table.c.id).scalar_subquery()))
        # Sessions of the posters, as a login makes them, and the CSRF seed their browser keeps.
        cookies: list[tuple[str, str]] = []
        session_rows = []
        for user in posters:
            token, seed_value = secrets.token_urlsafe(32), secrets.token_urlsafe(16)
            session_rows.append({"token_hash": hash_token(token), "user_id": user, "expires_at": now + 2 * day,
                                 "user_agent": "bench"})
            cookies.append((f"rv_session={token}; rv_csrf={seed_value}", csrf_token_for(secret, seed_value)))
        _insert(conn, UserSession, iter(session_rows))
        conn.commit()
    database = Database.from_settings(settings)
    with database.transaction() as session:
        indexing.rebuild(session, settings)
    database.dispose()
    # As a database after a bulk load is left for its users: the versions the load's updates
    # left behind (counters, triggers' tallies) reclaimed and the planner's statistics taken,
    # not left to autovacuum to do in the middle of the measures.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
    engine.dispose()
    return Filled(call_slug="appel-1", theme_id=themes[0], district_id=districts[0],
                  idea_with_50_comments=showcase, ideas_of_first_call=len(first_call_ideas),
                  poster_cookies=cookies, target_ideas=first_call_ideas, seconds=time.monotonic() - started)


def existing(database_url: str, settings: Settings) -> Filled:
    """What a run needs of a database `fill` filled earlier (a run with --keep; a million ideas
    take 40 minutes to fill), migrated to the current revision first. The posters get new
    sessions (only their tokens' hashes were stored) and, as targets, the ideas of the first
    call none of them supports yet."""
    migrate.upgrade(database_url)
    engine = sa.create_engine(database_url)
    now = utcnow()
    idea_table: sa.Table = Idea.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        calls: sa.Table = Call.__table__  # type: ignore[attr-defined]
        first_call = conn.execute(sa.select(calls.c.id).where(calls.c.slug == "appel-1")).scalar_one()
        first_call_ideas = _ids(conn, Idea, idea_table.c.call_id == first_call)
        themes = _ids(conn, Category, Category.__table__.c.call_id == first_call)  # type: ignore[attr-defined]
        districts = _ids(conn, District)
        posters = _ids(conn, User)[-POSTERS:]  # the last accounts `fill` made
        # Not the ideas the posters supported in an earlier run: supported again, each answers 409
        # (826 of a run's 1,069 supports at a million ideas), which the run measured as supports.
        votes: sa.Table = Vote.__table__  # type: ignore[attr-defined]
        supported = set(conn.execute(sa.select(votes.c.idea_id).where(votes.c.user_id.in_(posters))
                                     .distinct()).scalars())
        cookies: list[tuple[str, str]] = []
        session_rows = []
        for user in posters:
            token, seed_value = secrets.token_urlsafe(32), secrets.token_urlsafe(16)
            session_rows.append({"token_hash": hash_token(token), "user_id": user,
                                 "expires_at": now + timedelta(days=2), "user_agent": "bench"})
            cookies.append((f"rv_session={token}; rv_csrf={seed_value}",
                            csrf_token_for(settings.resolved_secret_key, seed_value)))
        _insert(conn, UserSession, iter(session_rows))
        found = Size(*(conn.execute(sa.select(sa.func.count()).select_from(model.__table__)).scalar_one()  # type: ignore[union-attr]
                       for model in (Idea, Vote, Comment, User, Call)))
        conn.commit()
    engine.dispose()
    return Filled(call_slug="appel-1", theme_id=themes[0], district_id=districts[0],
                  idea_with_50_comments=first_call_ideas[0], ideas_of_first_call=len(first_call_ideas),
                  poster_cookies=cookies, target_ideas=[i for i in first_call_ideas if i not in supported],
                  found=Size(found.ideas, found.votes, found.comments, found.citizens - POSTERS, found.calls))


def empty_postgres(url: str) -> None:
    """Drop and create the PostgreSQL database named in `url` (the benchmark's own)."""
    parsed = sa.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


"""How fast search answers at a city's scale: server-side time of a search, p50/p95/p99, with
100,000 public ideas (Liège collected 983 in 75 days: a hundred such calls).

    .venv/bin/python scripts/bench_search.py [--ideas 100000] [--queries 300]
    REINVENTONS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python scripts/bench_search.py          # the same on PostgreSQL (database emptied!)

Builds a fresh database (a temporary SQLite file by default) at the latest migration, with ten
calls, eight themes and eight districts each, and `--ideas` public ideas whose titles and bodies
are drawn with a fixed seed from a French vocabulary of 400 words (so some words are in
thousands of ideas, others in a handful, as in real life; each body stored as Markdown and as
the HTML the platform stores with it); indexes them with `reindex`'s own code; then times
`--queries` searches through the backend the platform uses (app.search.engines), as the search
page asks them: one to three words (some with a typo, some with accents left out), a third
filtered by call, a fifth sorted by supports, pages 1 to 3, each with its facet counts. Common
words match tens of thousands of ideas: the database backends then count, facet and page 1,000
of them (app.search.backend.COUNT_CAP) and say "more than"; the figures say how many searches
were so capped.
Prints the time to fill and index, the percentiles of the wall-clock time, the slowest query,
the percentiles of this process's CPU time (SQLite works in this process: on a machine shared
with other work it is the closer figure of the server's own work), the load average and the
peak memory. A measurement, not a test: nothing fails; compare the figures with the budget
(p95 <= 20 ms), and say how loaded the machine was.
"""

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from app import migrate  # noqa: E402
from app.call.models import Call, Category  # noqa: E402
from app.clock import utcnow  # noqa: E402
from app.db import Database  # noqa: E402
from app.idea.models import Idea  # noqa: E402
from app.richtext import render_markdown  # noqa: E402
from app.search import indexing  # noqa: E402
from app.search.backend import COUNT_CAP, SearchQuery  # noqa: E402
from app.search.engines import backend_for  # noqa: E402
from app.settings import Settings  # noqa: E402

STEMS = (
    "parc arbre banc vélo piste cyclable trottoir école crèche bibliothèque piscine marché quartier rue place "
    "fontaine éclairage sécurité propreté déchet compost tri poubelle jardin potager ombre fleur pelouse jeu "
    "enfant jeune senior handicap accès rampe bus arrêt tram navette parking voiture circulation vitesse zone "
    "bruit air pollution énergie solaire panneau toit isolation chauffage eau pluie inondation égout pont quai "
    "Meuse rivière berge promenade musée culture concert fête festival sport terrain football basket skate "
    "salle association bénévole voisin solidarité repas épicerie commerce local emploi formation numérique wifi "
    "internet borne recharge électrique partage atelier réparation café rencontre banc public toilette graffiti "
    "mur fresque art artiste théâtre cinéma lecture conte jeunesse maison quartier Outremeuse Cointe Sainte-Marguerite "
    "Guillemins Boverie Laveu Amercoeur Droixhe Bressoux Jupille Wandre Angleur Chênée Grivegnée Sclessin Rocourt "
    "Vottem Glain Longdoz Vennes Fétinne Burenville Thier-à-Liège Saint-Léonard Pierreuse Hocheporte Naimette"
).split()
FILLER = "de la le les des du un une pour avec dans sur plus et au aux en".split()
TYPOS = {"cyclable": "cyclabe", "bibliothèque": "biblioteque", "éclairage": "eclairag", "fontaine": "fontanie"}


def unaccent(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def vocabulary(rng: random.Random) -> list[str]:
    """400 words: the stems, then made-up variants, drawn with Zipf-like weights by the caller."""
    words = list(dict.fromkeys(STEMS))
    while len(words) < 400:
        words.append(rng.choice(STEMS) + rng.choice(["s", "x", "ment", "age", "erie", "ique"]))
    return words


def fill(db: Database, ideas: int, rng: random.Random) -> None:
    words = vocabulary(rng)
    sample = " ".join(words + FILLER)  # a body is these words: what the app stores for it (app.richtext)
    assert render_markdown(sample) == f"<p>{sample}</p>\n"
    weights = [1 / (rank + 1) for rank in range(len(words))]
    rare = rare_words(random.Random(7))
    now = utcnow()
    with db.transaction() as session:
        calls = []
        for n in range(10):
            call = Call(slug=f"appel-{n}", title=f"Appel à projets {n}", submissions_start=now,
                        voting_start=now, review_start=now, results_start=now, closes_at=None)
            session.add(call)
            session.flush()
            for k in range(8):
                session.add(Category(call_id=call.id, slug=f"theme-{n}-{k}", name=f"Thème {k}", position=k))
            calls.append(call.id)
        session.flush()
        categories = [row[0] for row in session.execute(sa.text("SELECT id FROM category")).all()]
    batch = 5000
    for start in range(0, ideas, batch):
        rows = []
        for i in range(start, min(start + batch, ideas)):
            title_words = rng.choices(words, weights, k=rng.randint(3, 7))
            body_words = rng.choices(words + FILLER * 8, k=rng.randint(20, 80))
            if rng.random() < RARE_SHARE:
                body_words.insert(rng.randrange(len(body_words)), rng.choice(rare))
            body = " ".join(body_words)
            rows.append({"call_id": calls[i % len(calls)], "category_id": rng.choice(categories),
                         "title": " ".join(title_words).capitalize()[:120], "body_md": body,
                         "body_html": f"<p>{body}</p>\n", "status": "published", "vote_count": rng.randint(0, 300),
                         "created_at": now, "updated_at": now, "published_at": now, "shortlisted": False,
                         "winner": False, "jury_note": "", "answer_html": "", "comment_count": 0,
                         "follower_count": 0, "report_count": 0})
        with db.transaction() as session:
            session.execute(sa.insert(Idea), rows)


RARE_SHARE = 0.2  # ideas naming one of the rare words (each rare word is then in about 70 ideas)


def rare_words(rng: random.Random) -> list[str]:
    """300 made-up words found in a few dozen ideas each, as street or project names are."""
    stems = [unaccent(w).lower() for w in dict.fromkeys(STEMS) if w.isalpha()]
    return sorted({a + b for a, b in (rng.sample(stems, 2) for _ in range(400))})[:300]


def queries(rng: random.Random, count: int, calls: list[int], categories: list[int]) -> list[tuple[str, SearchQuery]]:
    """`count` searches of each kind (KINDS), as the search page asks them: pages 1 to 3."""
    words = vocabulary(rng)
    common = [unaccent(w).lower() for w in words[:10]]  # in most titles and a tenth of bodies
    any_word = words[:150]
    rare = rare_words(random.Random(7))
    prefixes = [w[:n] for w in ("ecole", "bibliotheque", "energie", "eclairage", "parking", "jardin", "securite")
                for n in (3, 4, 5)]
    found: list[tuple[str, SearchQuery]] = []
    for _ in range(count):
        page = rng.randint(1, 3)
        one = rng.choice(common)
        found += [
            ("common word", SearchQuery(text=one, page=page)),
            ("rare word", SearchQuery(text=rng.choice(rare), page=1)),
            ("two or three words", SearchQuery(text=" ".join(rng.choices(any_word, k=rng.randint(2, 3))), page=page)),
            ("prefix (3-5 letters)", SearchQuery(text=rng.choice(prefixes), page=page)),
            ("typo", SearchQuery(text=rng.choice(list(TYPOS.values())), page=1)),
            ("filtered by call", SearchQuery(text=rng.choice(any_word), call_id=rng.choice(calls), page=page)),
            ("filtered by call+category", SearchQuery(text=rng.choice(any_word), call_id=rng.choice(calls),
                                                      category_id=rng.choice(categories), page=1)),
            ("sorted by supports", SearchQuery(text=one, sort="supported", page=page)),
            ("sorted by newest", SearchQuery(text=rng.choice(any_word), sort="newest", page=page)),
        ]
    return found


def server_cpu_ns(pid: int | None) -> int:
    """Nanoseconds of CPU the PostgreSQL server process `pid` has used (Linux /proc/PID/schedstat,
    nanosecond resolution); 0 for SQLite (None), which works inside this process."""
    if pid is None:
        return 0
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def percentiles(values: list[float]) -> str:
    cut = statistics.quantiles(sorted(values), n=100) if len(values) > 1 else values * 99
    return f"{cut[49]:6.1f} {cut[94]:6.1f} {cut[98]:6.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=60, help="searches of each kind")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database of REINVENTONS_BENCH_DATABASE_URL if it holds --ideas ideas")
    parser.add_argument("--reindex", action="store_true", help="with --reuse: rebuild the search index")
    args = parser.parse_args()
    rng = random.Random(2017)
    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
    url = os.environ.get("REINVENTONS_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    settings = Settings(data_dir=folder, database_url=url, secret_key="bench-only-not-a-secret")  # noqa: S106
    db = Database.from_settings(settings)
    reused = False
    if args.reuse:
        try:
            with db.engine.connect() as conn:
                reused = conn.execute(sa.text("SELECT count(*) FROM idea")).scalar() == args.ideas
        except sa.exc.DBAPIError:
            reused = False
    if reused:
        migrate.upgrade(url)
        print(f"reusing the database of {args.ideas:,} ideas (migrated to the latest revision)")
        with db.transaction() as session:
            indexed = indexing.rebuild(session, settings) if args.reindex else args.ideas
    else:
        if not url.startswith("sqlite"):
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(url)
        started = time.perf_counter()
        fill(db, args.ideas, rng)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        with db.transaction() as session:
            indexed = indexing.rebuild(session, settings)
        index_time = time.perf_counter() - started
        print(f"fill: {filled:.1f} s; index: {index_time:.1f} s")
    # What autovacuum (PostgreSQL, which since version 13 also vacuums tables that are only
    # inserted into) or `ANALYZE` leaves a live database with: statistics, and on PostgreSQL the
    # visibility map, without which no index-only scan skips the table's rows.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE" if url.startswith("sqlite") else "VACUUM ANALYZE"))
    rng = random.Random(2018)
    with db.session() as session:
        calls = [row[0] for row in session.execute(sa.text("SELECT id FROM call")).all()]
        categories = [row[0] for row in session.execute(sa.text("SELECT id FROM category")).all()]
        postgres = not url.startswith("sqlite")
        pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar() if postgres else None
        backend = backend_for(session, settings)
        asked = queries(rng, args.queries, calls, categories)
        titles = [row[0] for row in session.execute(sa.text("SELECT title FROM idea ORDER BY id LIMIT :n"),
                                                    {"n": args.queries}).all()]
        for _kind, query in asked[:30]:  # warm the caches as a running server has them
            backend.search(session, query)
        wall: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        capped: dict[str, int] = {}
        slowest: dict[str, tuple[float, str]] = {}

        def timed(kind: str, work: Any) -> Any:
            began, began_cpu, began_server = time.perf_counter(), time.process_time(), server_cpu_ns(pid)
            result = work()
            took = (time.perf_counter() - began) * 1000
            wall.setdefault(kind, []).append(took)
            cpu.setdefault(kind, []).append((time.process_time() - began_cpu) * 1000
                                            + (server_cpu_ns(pid) - began_server) / 1e6)
            return result

        for kind, query in asked:
            results = timed(kind, lambda q=query: backend.search(session, q))  # type: ignore[misc]
            capped[kind] = capped.get(kind, 0) + results.capped
            if wall[kind][-1] > slowest.get(kind, (0.0, ""))[0]:
                slowest[kind] = (wall[kind][-1], query.text)
        for title in titles:  # similar ideas while a title is typed (the idea form's script)
            timed("similar ideas", lambda t=title: backend.similar(session, calls[0], t))  # type: ignore[misc]
    load = os.getloadavg()
    engine = "PostgreSQL" if postgres else "SQLite"
    print(f"engine: {engine} ({type(backend).__name__}); ideas: {args.ideas:,}; indexed: {indexed:,}")
    print("server CPU = this process's CPU time" + (" + the PostgreSQL server process's (/proc/PID/schedstat)"
                                                    if postgres else " (SQLite works inside it)"))
    print(f"{'kind':27} {'n':>4} {'capped':>6} | {'wall ms p50    p95    p99':>25} | "
          f"{'server CPU ms p50 p95    p99':>26} | slowest")
    every_wall: list[float] = []
    every_cpu: list[float] = []
    for kind in wall:
        if kind != "similar ideas":  # not a search: the idea form's suggestions
            every_wall += wall[kind]
            every_cpu += cpu[kind]
        print(f"{kind:27} {len(wall[kind]):4} {capped.get(kind, 0):6} |      {percentiles(wall[kind])} |"
              f"      {percentiles(cpu[kind])} | {slowest.get(kind, (0, ''))[1]}")
    print(f"{'all searches (not similar)':27} {len(every_wall):4} {sum(capped.values()):6} |"
          f"      {percentiles(every_wall)} |      {percentiles(every_cpu)} |")
    print(f"(capped: searches with more than {COUNT_CAP:,} matches, counted over {COUNT_CAP:,} of them)")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in load)} on {os.cpu_count()} CPUs")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("budget: p95 <= 20 ms server-side (issue 12)")


if __name__ == "__main__":
    main()

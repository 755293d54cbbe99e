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
            body = " ".join(body_words)
            rows.append({"call_id": calls[i % len(calls)], "category_id": rng.choice(categories),
                         "title": " ".join(title_words).capitalize()[:120], "body_md": body,
                         "body_html": f"<p>{body}</p>\n", "status": "published", "vote_count": rng.randint(0, 300),
                         "created_at": now, "updated_at": now, "published_at": now, "shortlisted": False,
                         "winner": False, "jury_note": "", "answer_html": "", "comment_count": 0,
                         "follower_count": 0, "report_count": 0})
        with db.transaction() as session:
            session.execute(sa.insert(Idea), rows)


def queries(rng: random.Random, count: int, calls: list[int]) -> list[SearchQuery]:
    words = vocabulary(rng)
    found = []
    for _ in range(count):
        picked = rng.choices(words[:150], k=rng.randint(1, 3))
        if rng.random() < 0.3:
            picked = [unaccent(w) for w in picked]
        if rng.random() < 0.1:
            picked = [TYPOS.get(w, w) for w in picked]
        found.append(SearchQuery(text=" ".join(picked), call_id=rng.choice(calls) if rng.random() < 0.33 else None,
                                 sort="supported" if rng.random() < 0.2 else "relevance", page=rng.randint(1, 3)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(2017)
    folder = Path(tempfile.mkdtemp(prefix="bench-search-"))
    url = os.environ.get("REINVENTONS_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite3'}"
    settings = Settings(data_dir=folder, database_url=url, secret_key="bench-only-not-a-secret")  # noqa: S106
    db = Database.from_settings(settings)
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
    with db.engine.begin() as conn:  # what autovacuum (PostgreSQL) or `ANALYZE` leaves a live database with
        conn.execute(sa.text("ANALYZE"))
    with db.session() as session:
        calls = [row[0] for row in session.execute(sa.text("SELECT id FROM call")).all()]
        backend = backend_for(session, settings)
        asked = queries(rng, args.queries, calls)
        for query in asked[:10]:  # warm the caches as a running server has them
            backend.search(session, query)
        timings = []
        cpu = []
        capped = 0
        for query in asked:
            began, began_cpu = time.perf_counter(), time.process_time()
            results = backend.search(session, query)
            timings.append(((time.perf_counter() - began) * 1000, query.text, results.total, results.capped))
            cpu.append((time.process_time() - began_cpu) * 1000)
            capped += results.capped
    ms = sorted(t for t, _q, _n, _c in timings)
    slowest = max(timings)
    cut = statistics.quantiles(ms, n=100)
    cpu_cut = statistics.quantiles(sorted(cpu), n=100)
    engine = "PostgreSQL" if not url.startswith("sqlite") else "SQLite"
    print(f"engine: {engine} ({type(backend).__name__}); ideas: {args.ideas:,}; indexed: {indexed:,}")
    print(f"fill: {filled:.1f} s; index: {index_time:.1f} s")
    print(f"searches: {len(ms)} ({capped} with more than {COUNT_CAP:,} hits); p50 {cut[49]:.1f} ms; "
          f"p95 {cut[94]:.1f} ms; p99 {cut[98]:.1f} ms; max {ms[-1]:.1f} ms "
          f"(\"{slowest[1]}\", {'more than ' if slowest[3] else ''}{slowest[2]:,} hits)")
    print(f"CPU time of this process per search (all of SQLite's work; PostgreSQL's is in its server): "
          f"p50 {cpu_cut[49]:.1f} ms; p95 {cpu_cut[94]:.1f} ms")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"peak memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    print("budget: p95 <= 20 ms server-side (issue 12)")


if __name__ == "__main__":
    main()

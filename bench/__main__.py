"""The platform's benchmark (issue 14). From the project's folder:

    .venv/bin/python -m bench --size small                       # SQLite and PostgreSQL
    .venv/bin/python -m bench --size medium --databases sqlite --seconds 10
    .venv/bin/python -m bench --databases sqlite --only list-logged-in  # one measure (and the floor)
    .venv/bin/python -m bench --ideas 1000000 --votes 10000000 --comments 3000000 \\
        --citizens 200000 --calls 50                             # the issue's large dataset

For each database: fills a new one (SQLite: a temporary file; PostgreSQL: the database named
by --postgresql, dropped and created again), starts the real server as `reinventons serve`
runs it (uvicorn, one process per core, the platform's JSON access line for every answer),
measures each page with wrk from a separate process on loopback, then stops every process it
started. Prints one table per database (requests/s, p50 and p99 in milliseconds, each page's
share of the floor: the same bytes answered by a bare endpoint of the same server, measured
just before the page), the supports' consistency after the
run (counters equal rows, no support lost), the servers' memory, and saves it all as JSON.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.observability import logs
from app.settings import Settings
from bench import dataset, load
from bench.server import FLOOR_PATH

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-not-for-production-0123456789"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(database_url: str, data_dir: Path, port: int, workers: int, floor: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REINVENTONS_")}
    env.update({"REINVENTONS_DATABASE_URL": database_url, "REINVENTONS_DATA_DIR": str(data_dir),
                "REINVENTONS_SECRET_KEY": SECRET, "REINVENTONS_BASE_URL": f"http://127.0.0.1:{port}",
                "REINVENTONS_LOG_FORMAT": "json", "REINVENTONS_BENCH_FLOOR": str(floor)})
    if workers > 1:
        # As `reinventons serve` runs several processes (app.cli): each writes its metrics into
        # a shared folder (prometheus-client's multiprocess mode), 4 us more a kept page in
        # process than a single process's counters (16.4 -> 20.4 us a hit, measured).
        metrics = data_dir / "prometheus"
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    log = (data_dir / "server.log").open("wb")
    # Logs as `reinventons serve` writes them: a JSON line for every answer (the access log) at
    # INFO. Without it uvicorn's own configuration applied and the platform's lines at INFO went
    # nowhere: every page was measured without the line production writes for it.
    log_config = data_dir / "log-config.json"
    log_config.write_text(json.dumps(logs.dict_config("json")))
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.server:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log", "--no-proxy-headers",
         "--log-config", str(log_config), "--log-level", "info", "--timeout-worker-healthcheck", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped:\n{(data_dir / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                return server
        except OSError:
            if time.monotonic() > deadline:
                _stop(server)
                raise SystemExit("the server did not answer /healthz within 120 s") from None
            time.sleep(0.3)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server and its worker processes (its own process group)."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _memory(server: subprocess.Popen[bytes]) -> dict[str, dict[str, float]]:
    """The memory of each process of the server (MiB), by process id: `peak_rss`, the most it
    held resident (VmHWM), and `private` now, the pages only it holds (Private_Clean +
    Private_Dirty of /proc/PID/smaps_rollup), what one more process would cost. The two
    differ by shared pages, SQLite's above all: each connection maps the database file
    (app.db.SQLITE_MMAP_BYTES) and every page it reads counts in its RSS once per mapping,
    though it is one page of the operating system's cache, held whether mapped or not."""
    found: dict[str, dict[str, float]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            stat = (status.parent / "stat").read_text()
            rollup = (status.parent / "smaps_rollup").read_text()
        except OSError:
            continue
        # Field 5 of /proc/PID/stat is the process group: the server started its own.
        if int(stat.rsplit(")", 1)[1].split()[2]) != server.pid:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        private = sum(int(line.split()[1]) for line in rollup.splitlines()
                      if line.startswith(("Private_Clean:", "Private_Dirty:")))
        peak = int(fields.get("VmHWM", "0 kB").split()[0])
        found[status.parent.name] = {"peak_rss": round(peak / 1024, 1), "private": round(private / 1024, 1)}
    return found


def _fetch(url: str, cookie: str = "") -> bytes:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    # A first visit at a million ideas reads gigabytes the operating system has not cached yet.
    with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310
        return bytes(answer.read())


def _votes_consistent(database_url: str) -> dict[str, Any]:
    """Rows, the counters' sum and double supports, read in one statement (one snapshot: read
    apart, a support committed in between would look like a counter out of step), once the
    server has finished the requests still running when the load stopped (two readings alike)."""
    engine = sa.create_engine(database_url)
    query = sa.text("SELECT (SELECT count(*) FROM vote), (SELECT coalesce(sum(vote_count), 0) FROM idea), "
                    "(SELECT count(*) FROM (SELECT idea_id, user_id FROM vote GROUP BY idea_id, user_id "
                    "HAVING count(*) > 1) AS d)")
    found: tuple[int, ...] = ()
    with engine.connect() as conn:
        for _ in range(20):
            reading = tuple(int(x) for x in conn.execute(query).one())
            if reading == found:
                break
            found = reading
            conn.rollback()
            time.sleep(0.25)
    engine.dispose()
    return {"vote_rows": found[0], "counters_sum": found[1], "double_votes": found[2]}


def run_one(kind: str, database_url: str, size: dataset.Size, args: argparse.Namespace) -> dict[str, Any]:
    """Fill (or, with --reuse, take as filled), serve and measure one database; returns its figures."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
    settings = Settings(database_url=database_url, data_dir=data_dir, secret_key=SECRET, meili_url="")
    if args.reuse:
        print(f"\n== {kind}: measuring the database filled earlier, {database_url} ...", flush=True)
        filled = dataset.existing(database_url, settings)
        size = filled.found or size
        print(f"   it holds {size}", flush=True)
    else:
        print(f"\n== {kind}: filling {size} ...", flush=True)
        filled = dataset.fill(database_url, settings, size)
        print(f"   filled in {filled.seconds:.0f} s", flush=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    floor = data_dir / "floor.html"
    floor.write_bytes(b"")
    server = _start(database_url, data_dir, port, args.workers, floor)
    try:
        slug = filled.call_slug
        last_page = max(1, -(-filled.ideas_of_first_call // 24))
        deep = min(200, last_page)
        citizen_cookie = filled.poster_cookies[-1][0]
        pages = [
            ("home", "/", ""),
            ("list, page 1", f"/calls/{slug}", ""),
            (f"list, page {deep}", f"/calls/{slug}?page={deep}", ""),
            ("list by theme", f"/calls/{slug}?category={filled.theme_id}", ""),
            ("list by district", f"/calls/{slug}?district={filled.district_id}", ""),
            ("list, most supported", f"/calls/{slug}?sort=supported", ""),
            ("list, most discussed", f"/calls/{slug}?sort=discussed", ""),
            ("list, random order", f"/calls/{slug}?sort=random&seed=4242", ""),
            ("list, logged-in citizen", f"/calls/{slug}", citizen_cookie),
            ("idea with 50 comments", f"/ideas/{filled.idea_with_50_comments}", ""),
            ("search", "/search?q=parc+v%C3%A9lo", ""),
        ]
        page_bytes = _fetch(base + pages[1][1])
        floor.write_bytes(page_bytes)  # the floor answers the list's own bytes (read at its first request)
        pages = [page for page in pages if chosen(args.only, page[0])]
        first_seconds = {}
        for name, path, cookie in pages:
            # Warm: templates compiled, caches filled, connections opened. How long the first
            # visit took is a figure too: at a million ideas, with the database's pages not yet
            # in memory, it is what the first visitor after a restart waits.
            started = time.monotonic()
            _fetch(base + path, cookie)
            first_seconds[name] = round(time.monotonic() - started, 3)
            print(f"   first visit, {name}: {first_seconds[name]:.2f} s", flush=True)
        def measure_floor() -> load.Measure:
            return load.get(base, "floor (same bytes, bare endpoint)", FLOOR_PATH, seconds=args.seconds,
                            threads=args.threads, connections=args.connections)

        measures = [measure_floor()]
        # Each page's share is of the floor measured just before it, not of the first one: the
        # speed of these machines drifts within a run (the floor measured 13,200/s and 19,900/s
        # a minute apart), and a page measured after a drift was credited with it.
        floors = {measures[0].name: measures[0].requests_per_s}
        for name, path, cookie in pages:
            floors[name] = measure_floor().requests_per_s
            measures.append(load.get(base, name, path, seconds=args.seconds, threads=args.threads,
                                     connections=args.connections, cookie=cookie))
            print(f"   {name}: {measures[-1].requests_per_s:.0f}/s (floor just before: {floors[name]:.0f}/s)",
                  flush=True)
        posters, targets = filled.poster_cookies, filled.target_ideas

        def vote_line(k: int) -> str:
            # Line k is poster k mod P supporting target (k mod P + k div P) mod T: no two lines below
            # P x T (5,000 people, about 200 ideas at `small`) name the same person and idea.
            return (f"/ideas/{targets[(k + k // len(posters)) % len(targets)]}/vote"
                    f"\t{posters[k % len(posters)][0]}\tcsrf_token={posters[k % len(posters)][1]}")

        supports = None
        if chosen(args.only, SUPPORTS):
            # A second of supports first, not measured, by other people on other ideas: each server
            # process opens its connections, prepares its statements and reads its catalogues, as
            # after any restart. Measured, that start made the p99 of a 5 s run (0.5 to 2.5 s on
            # PostgreSQL); the pages' first visits are warmed (and timed) above in the same way.
            load.post(base, "warm-up", [vote_line(k) for k in range(60_000, 64_000)], seconds=1,
                      threads=args.threads, connections=args.connections)
        before = _votes_consistent(database_url)
        if chosen(args.only, SUPPORTS):
            supports = load.post(base, SUPPORTS, [vote_line(k) for k in range(60_000)], seconds=args.seconds,
                                 threads=args.threads, connections=args.connections)
            measures.append(supports)
        after = _votes_consistent(database_url)
        if chosen(args.only, COMMENTS):
            comment_lines = [f"/ideas/{targets[k % len(targets)]}/comments\t{posters[k % len(posters)][0]}"
                             f"\tcsrf_token={posters[k % len(posters)][1]}&body=Un+avis+de+citoyen+num%C3%A9ro+{k}"
                             for k in range(len(posters))]
            measures.append(load.post(base, COMMENTS, comment_lines, seconds=args.seconds,
                                      threads=args.threads, connections=args.connections))
        memory = _memory(server)
    finally:
        _stop(server)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    first_floor = measures[0].requests_per_s

    def floor_of(m: load.Measure) -> float:
        """The floor a measure is a share of: the one measured just before it (a page), the
        first one (the floor itself, and the POSTs, which answer other bytes)."""
        return floors.get(m.name, first_floor) or 1.0

    return {
        "database": kind, "size": asdict(size), "fill_seconds": round(filled.seconds, 1),
        "page_bytes": len(page_bytes), "workers": args.workers, "load": os.getloadavg(),
        "measures": [{**asdict(m), "floor_per_s": floor_of(m),
                      "share_of_floor": round(m.requests_per_s / floor_of(m), 4)} for m in measures],
        "supports": {"before": before, "after": after,
                     "accepted_answers": supports.requests - supports.non_2xx if supports else 0,
                     "new_rows": after["vote_rows"] - before["vote_rows"],
                     "counters_equal_rows": after["vote_rows"] == after["counters_sum"]},
        "memory_mib": memory,
        "first_visit_seconds": first_seconds,
    }


SUPPORTS = "support (POST), distinct citizens"
COMMENTS = "comment (POST), distinct citizens"


def slug(name: str) -> str:
    """A measure's name as `--only` takes it: "list, logged-in citizen" -> "list-logged-in-citizen"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def chosen(only: str, name: str) -> bool:
    """Whether `--only` (comma-separated starts of slugs, "" for all) selects the measure `name`;
    the floor is always measured."""
    wanted = [w.strip() for w in only.split(",") if w.strip()]
    return not wanted or any(slug(name).startswith(w) for w in wanted)


def print_table(result: dict[str, Any]) -> None:
    print(f"\n{result['database']}: {result['size']} — {result['workers']} server processes, "
          f"page of {result['page_bytes']:,} bytes")
    print(f"load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in result['load'])}")
    print("(floor/s: the bare endpoint measured just before the page; share: the page's rate over it)")
    print(f"{'page':<36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'floor/s':>9} {'share':>7} {'not 2xx':>8}")
    for m in result["measures"]:
        print(f"{m['name']:<36} {m['requests_per_s']:>9.1f} {m['p50_ms']:>8.2f} {m['p99_ms']:>8.2f} "
              f"{m.get('floor_per_s', 0):>9.1f} {100 * m['share_of_floor']:>6.1f}% {m['non_2xx']:>8}")
    s = result["supports"]
    print(f"supports: {s['accepted_answers']} accepted answers, {s['new_rows']} new rows; "
          f"counters equal rows: {'yes' if s['counters_equal_rows'] else 'NO'}; "
          f"double supports: {s['after']['double_votes']}")
    print("memory per server process (MiB; private now / peak resident, shared pages counted per mapping): "
          + ", ".join(f"{v['private']:.0f} / {v['peak_rss']:.0f}" for v in result["memory_mib"].values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(dataset.SIZES), default="small")
    for name in ("ideas", "votes", "comments", "citizens", "calls"):
        parser.add_argument(f"--{name}", type=int, help=f"overrides the size's number of {name}")
    parser.add_argument("--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    parser.add_argument("--postgresql", default="postgresql+psycopg://postgres@127.0.0.1:5432/reinventons_bench",
                        help="the PostgreSQL database to use (dropped and created again)")
    parser.add_argument("--seconds", type=int, default=5, help="duration of each page's measure")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="server processes")
    parser.add_argument("--only", default="", help="comma-separated starts of the measures' names, as slugs "
                        "(e.g. list-logged-in,home,support); the floor is always measured. Default: all")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite database and the servers' data "
                        "folders after the run (removed otherwise)")
    parser.add_argument("--reuse", default="", help="measure the database at this URL, filled by an earlier run "
                        "with --keep (e.g. sqlite:////tmp/bench-db-x/bench.sqlite3), instead of filling one; "
                        "--databases must then name its kind alone")
    parser.add_argument("--json", type=Path, default=ROOT / "test-artifacts" / "bench.json")
    args = parser.parse_args(argv)
    base = dataset.SIZES[args.size]
    size = dataset.Size(**{name: getattr(args, name) or getattr(base, name)
                           for name in ("ideas", "votes", "comments", "citizens", "calls")})
    results = []
    for kind in [k.strip() for k in args.databases.split(",") if k.strip()]:
        folder = None
        if args.reuse:
            url = args.reuse
        elif kind == "sqlite":
            folder = Path(tempfile.mkdtemp(prefix="bench-db-"))
            url = f"sqlite:///{folder / 'bench.sqlite3'}"
        elif kind == "postgresql":
            url = args.postgresql
            dataset.empty_postgres(url)
        else:
            parser.error(f"unknown database {kind!r}")
        try:
            results.append(run_one(kind, url, size, args))
        finally:
            # A million ideas are gigabytes of SQLite: gone with the run unless asked for.
            if folder is not None and not args.keep and not args.reuse:
                shutil.rmtree(folder, ignore_errors=True)
            elif folder is not None:
                print(f"   kept: {url}", flush=True)
        print_table(results[-1])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"load": os.getloadavg(), "results": results}, indent=2))
    print(f"\nFigures saved in {args.json} (load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The `reinventons` command: serve, worker, demo, create-user, migrate, reindex."""

import argparse
import getpass
import ipaddress
import logging
import os
import shutil
import sys
import threading

import uvicorn

from app import demo, migrate
from app.account import service as account_service
from app.account.models import Role
from app.db import Database
from app.deployment import secret_key
from app.errors import ValidationFailed
from app.observability import errors, logs
from app.outbox import worker
from app.search import indexing
from app.settings import Settings

log = logging.getLogger("app.cli")
# The exit status of an instance refusing to start because it is misconfigured (another
# instance's secret key): a process manager must not restart it (deploy/systemd).
EXIT_MISCONFIGURED = 2


def _settings() -> Settings:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    return settings


def address_for(host: str, port: int) -> str:
    """The http address a browser on this machine uses for a server listening on host:port.
    A wildcard host (0.0.0.0, ::) is reached on loopback; IPv6 literals go in brackets."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding to it
        host = "127.0.0.1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name
    return f"http://{host}:{port}"


def _public_settings(args: argparse.Namespace) -> Settings:
    """The settings of a server started on --host/--port. Without BASE_URL, its public address
    (links in e-mails, spreadsheets, exports) is the one it listens on, not the default port;
    the environment carries it to the processes uvicorn starts, which read their own settings."""
    settings = _settings()
    if not settings.base_url_configured:
        os.environ["REINVENTONS_BASE_URL"] = address_for(args.host, args.port)
        settings = _settings()
        if args.host in ("0.0.0.0", "::"):  # noqa: S104
            log.warning("REINVENTONS_BASE_URL is not set: links in e-mails will point to %s. "
                        "Set it to the address people use to reach this server.", settings.base_url)
    return settings


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each server process writes its metrics into this folder, emptied at each start, and
        # /metrics adds them up whichever process answers (app.observability.metrics).
        folder = settings.data_dir / "prometheus"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    uvicorn.run("app.main:serve_app", factory=True, host=host, port=port, workers=workers,
                # The application applies the proxy headers itself (app.main), from its own setting.
                access_log=False, proxy_headers=False, log_level="info",
                log_config=logs.dict_config(logs.resolve(settings.log_format)),
                # A busy 2-core machine takes 5 to 9 s to import the application in a new worker
                # process; with uvicorn's 5 s health check, each worker was killed and restarted
                # about five times before one answered (seen with --workers 2 under load 7).
                timeout_worker_healthcheck=30)


def _migrate(settings: Settings) -> tuple[str | None, str | None]:
    """Migrate under the lock and say whether this process did it (several instances may start
    together: one migrates, the others find the database up to date)."""
    before, after = migrate.upgrade(settings.resolved_database_url)
    if before != after:
        log.info("Database migrated from %s to %s.", before or "an empty database", after)
        # A migration may rewrite what pages show (a backfill, an excerpt recomputed) without
        # the application's writes, which alone bump the page generation: instances still
        # running during a rolling deploy would serve the pages they kept until the next write.
        database = Database.from_settings(settings)
        try:
            database.generation.bump()
        finally:
            database.dispose()
    else:
        log.info("Database already at revision %s: nothing to migrate.", after)
    return before, after


def _agree_on_secret_key(settings: Settings) -> bool:
    """False (and the reason on stderr) when another instance of this deployment signs with
    another secret key (app.deployment.secret_key)."""
    with Database.from_settings(settings).transaction() as session:
        try:
            secret_key.check(session, settings)
        except secret_key.SecretKeyMismatch as mismatch:
            print(f"reinventons: {mismatch}", file=sys.stderr)
            return False
    return True


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    before, after = _migrate(settings)
    with Database.from_settings(settings).transaction() as session:
        secret_key.record(session, settings)
    if before != after:
        print(f"Database migrated from {before or 'an empty database'} to {after}.")
    else:
        print(f"Database is up to date (revision {after}).")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    settings = _settings()
    _migrate(settings)
    db = Database.from_settings(settings)
    with db.transaction() as session:
        count = indexing.rebuild(session, settings)
    engine = " (and Meilisearch's)" if settings.meili_url else ""
    print(f"Search index{engine} rebuilt: {count} public ideas.")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _public_settings(args)
    _migrate(settings)
    if not _agree_on_secret_key(settings):
        return EXIT_MISCONFIGURED
    _serve(settings, args.host, args.port, args.workers)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    if not settings.base_url_configured:
        log.warning("REINVENTONS_BASE_URL is not set: links in e-mails will point to %s. Set it to the "
                    "public address of the web processes.", settings.base_url)
    # Migrating here too (under the lock) lets a worker start before, after or with the web
    # processes on a new database.
    _migrate(settings)
    if not _agree_on_secret_key(settings):
        return EXIT_MISCONFIGURED
    db = Database.from_settings(settings)
    errors.configure(settings.sentry_dsn.get_secret_value(), environment=settings.sentry_environment)
    worker.run_forever(settings, db)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    settings = _public_settings(args)
    _migrate(settings)
    if not _agree_on_secret_key(settings):
        return EXIT_MISCONFIGURED
    db = Database.from_settings(settings)
    created = demo.seed(db, settings)
    print("\nRéinventons — demonstration" + ("" if created else " (existing data kept)"))
    print(f"  Open {settings.absolute_url('/')} in your browser.\n  Demo accounts:")
    for email, name, role, password in demo.DEMO_ACCOUNTS:
        print(f"    {role:<10} {email:<34} password: {password}   ({name})")
    where = settings.smtp_url or f"{settings.mail_dir.resolve()}/"
    print(f"  E-mails sent by the platform go to {where}\n")
    # The demo runs the background worker in-process so e-mails and other effects happen.
    threading.Thread(target=worker.run_forever, args=(settings, db), kwargs={"install_signals": False},
                     daemon=True, name="outbox-worker").start()
    _serve(settings, args.host, args.port, 1)
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    settings = _settings()
    _migrate(settings)
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            print("The passwords differ.", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    db = Database.from_settings(settings)
    try:
        with db.transaction() as session:
            user = account_service.create_user(session, email=args.email, display_name=args.name,
                                               password=password, role=Role(args.role), verified=True,
                                               language=args.language)
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    print(f"Created {user.role} {user.email} (id {user.id}).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reinventons", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_address(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)

    p = sub.add_parser("serve", help="serve the platform (applies migrations first)")
    with_address(p)
    p.add_argument("--workers", type=int, default=1, help="processes; one per core is a good start")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="carry out queued e-mails and other side effects")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("demo", help="migrate, fill demonstration data and serve")
    with_address(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("create-user", help="create a verified account (password from the prompt or stdin)")
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--role", choices=[r.value for r in Role], default=Role.citizen.value)
    p.add_argument("--language", default="fr")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("reindex", help="rebuild the search index from the database")
    p.set_defaults(func=cmd_reindex)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(logs.resolve(Settings().log_format))
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())

"""A migration that ran makes every page kept before it stale, in every instance: a data
migration rewrites what pages show without the application's writes, which alone bump the page
generation, and instances still running during a rolling deploy would serve their kept pages."""

from pathlib import Path

from app import cli, migrate
from app.db import Database
from tests.support import make_settings

BEHIND_HEAD = "0040"  # any revision before the head


def test_a_migration_bumps_the_page_generation_and_nothing_to_migrate_does_not(empty_database: str,
                                                                               tmp_path: Path) -> None:
    migrate.upgrade(empty_database, BEHIND_HEAD)
    settings = make_settings(tmp_path / "var", empty_database)
    database = Database.from_settings(settings)  # another instance, still serving
    try:
        database.generation.bump()
        kept_under = database.generation.current()
        before, after = cli._migrate(settings)  # noqa: SLF001 - what `serve` and `migrate` run
        assert (before, after) == (BEHIND_HEAD, migrate.head_revision())
        assert database.generation.current() != kept_under
        migrated_under = database.generation.current()
        cli._migrate(settings)  # noqa: SLF001
        assert database.generation.current() == migrated_under  # nothing migrated: pages stay kept
    finally:
        database.dispose()

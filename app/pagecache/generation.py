"""The deployment's page generation: read at the start of every cacheable request, bumped after
every commit that changed what pages show.

PostgreSQL: the sequence `page_generation` (migration 0030). `nextval` takes no lock that a
writer would wait for, and every instance on every machine reads the same sequence.
SQLite: the file `page-generation` next to the database file (one machine, by nature), replaced
atomically by each bump with a value no other bump writes (time, process id, random)."""

import os
import secrets
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, text


class Generation:
    """Reads and bumps the page generation of one database."""

    def current(self) -> str:
        """The generation now (any string; equal strings mean no write in between)."""
        raise NotImplementedError

    def bump(self) -> None:
        """Make every page made before now stale, in every process."""
        raise NotImplementedError


class FileGeneration(Generation):
    def __init__(self, path: Path) -> None:
        self.path = path

    def current(self) -> str:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            return ""

    def bump(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fresh.write_text(f"{time.time_ns()}-{os.getpid()}-{secrets.token_hex(8)}")
        os.replace(fresh, self.path)  # atomic: a reader sees the old value or the new one


class SequenceGeneration(Generation):
    def __init__(self, engine: Engine) -> None:
        # A pool of its own: the generation is read and bumped while a request's session holds
        # one of the application's connections (a bump runs right after that session's commit).
        # Taken from the same pool, 30 busy requests would each wait for a 31st connection.
        self.engine = create_engine(engine.url, pool_size=2, max_overflow=30, pool_timeout=10,
                                    isolation_level="AUTOCOMMIT")

    def current(self) -> str:
        with self.engine.connect() as conn:
            return str(conn.execute(text("SELECT last_value, is_called FROM page_generation")).one())

    def bump(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT nextval('page_generation')"))


def for_engine(engine: Engine) -> Generation:
    """The generation of the database behind `engine`."""
    if engine.dialect.name == "postgresql":
        return SequenceGeneration(engine)
    database = engine.url.database or ""
    if not database or database == ":memory:":
        return FileGeneration(Path(f"/tmp/reinventons-page-generation-{os.getpid()}"))  # noqa: S108 - one process
    return FileGeneration(Path(database).with_name(Path(database).name + ".page-generation"))

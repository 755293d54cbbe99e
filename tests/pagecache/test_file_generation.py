"""The SQLite deployment's page generation, a file read by every cacheable request: a reader
that held the file open from its first read sees every bump, another process's included, and
one that read before the first bump sees the bumps after it."""

import shutil
from pathlib import Path

import pytest

from app.pagecache import generation
from app.pagecache.generation import FileGeneration


def test_a_reader_sees_every_bump_of_any_writer_from_before_the_file_exists(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3.page-generation"
    reader, writer = FileGeneration(path), FileGeneration(path)  # as two server processes
    assert reader.current() == ""  # no bump yet
    writer.bump()
    first = reader.current()
    assert first and first == writer.current()
    writer.bump()
    second = reader.current()
    assert second != first and second == writer.current()
    reader.close()  # the database disposed: a read after it reads the file again
    writer.bump()
    assert reader.current() == writer.current() != second
    reader.close()
    writer.close()


def test_a_generation_file_deleted_or_replaced_is_followed_by_its_readers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file held open is the one at the path until the path names another: deleted with its
    folder and made again by the next bump (a data folder restored, made again), or replaced by
    a file renamed over it. A process's own bump is seen by its next read; another process's
    within generation.RECHECK_SECONDS (0 here: every read looks). Without this, every page
    kept before the deletion was served after every write that followed, as if none had."""
    folder = tmp_path / "var"
    path = folder / "db.sqlite3.page-generation"
    own = FileGeneration(path)
    own.bump()
    before = own.current()
    shutil.rmtree(folder)  # the data folder deleted under the running server
    own.bump()  # a write: the folder and the file made again
    assert own.current() == path.read_text() != before

    monkeypatch.setattr(generation, "RECHECK_SECONDS", 0.0)
    reader, writer = FileGeneration(path), FileGeneration(path)  # as two server processes
    held = reader.current()
    path.unlink()
    writer.bump()
    assert reader.current() == writer.current() == path.read_text() != held
    replacement = tmp_path / "restored"
    replacement.write_bytes(b"restored-generation-\xe9")  # whatever bytes it holds: a value
    replacement.replace(path)
    assert reader.current() == "restored-generation-\xe9" == writer.current()
    writer.bump()
    assert reader.current() == path.read_text() != "restored-generation-\xe9"
    for each in (own, reader, writer):
        each.close()

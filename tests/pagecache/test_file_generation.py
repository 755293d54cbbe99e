"""The SQLite deployment's page generation, a file read by every cacheable request: a reader
that held the file open from its first read sees every bump, another process's included, and
one that read before the first bump sees the bumps after it."""

from pathlib import Path

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

"""The access lines of one pass of the event loop, written together at its end
(app.observability.logs.AccessHandler): every line whole and in order, none later than the pass,
never mixed with another server process's lines on a shared standard error, and a record of the
access logger after the lines before it."""

import asyncio
import io
import json
import logging
import os
import re
import select
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.observability import logs
from tests.support import run_coroutine


class Recording(io.StringIO):
    """A stream that keeps each write it was given, as a pipe sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


@pytest.fixture
def handler() -> Iterator[logs.AccessHandler]:
    """The access handler as `dict_config` makes it, writing to a `Recording`."""
    made = logs.AccessHandler(Recording())
    made.setFormatter(logs.JsonFormatter())
    made.addFilter(logs.RequestIdFilter())
    yield made
    made.close()


def _line(handler: logs.AccessHandler, n: int) -> bool:
    return handler.write_access(f"{n:032x}", f"GET /calls/budget-{n} 200 1.0ms", "call:detail", 200, 1.0, 1.0e9)


def _written(handler: logs.AccessHandler) -> list[str]:
    return [json.loads(line)["request_id"] for line in handler.stream.getvalue().splitlines()]


def test_the_lines_of_a_pass_are_written_at_its_end_whole_and_in_order(handler: logs.AccessHandler) -> None:
    async def pass_of_answers() -> tuple[list[str], list[str]]:
        for n in range(60):
            assert _line(handler, n)
        during = _written(handler)
        await asyncio.sleep(0)  # the loop's next pass: the callback ran
        return during, _written(handler)

    during, after = run_coroutine(pass_of_answers())
    assert during == []
    assert after == [f"{n:032x}" for n in range(60)]
    writes = handler.stream.writes
    # About 240 bytes a line: 60 lines in 4 writes, each of whole lines within PIPE_BUF.
    assert 1 < len(writes) < 10
    assert all(len(w.encode()) <= select.PIPE_BUF and w.endswith("\n") for w in writes)


def test_a_line_is_written_at_once_where_no_loop_runs(handler: logs.AccessHandler) -> None:
    """A thread (the thread pool, a command): nothing would write it later. (In a thread of the
    test's own: the browser tests leave a loop running in the test's thread.)"""
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(_line, handler, 7).result()
    assert _written(handler) == [f"{7:032x}"]


def test_a_record_comes_after_the_lines_waiting_before_it(handler: logs.AccessHandler) -> None:
    async def lines_then_a_record() -> None:
        _line(handler, 1)
        _line(handler, 2)
        handler.handle(logging.LogRecord(logs.ACCESS_LOGGER, logging.WARNING, __file__, 0, "a record", (), None))
        _line(handler, 3)
        await asyncio.sleep(0)

    run_coroutine(lines_then_a_record())
    lines = [json.loads(line) for line in handler.stream.getvalue().splitlines()]
    assert [line["message"][:18] for line in lines] == [
        "GET /calls/budget-", "GET /calls/budget-", "a record", "GET /calls/budget-"]
    assert [line["request_id"] for line in lines if line["message"] != "a record"] == [f"{n:032x}" for n in (1, 2, 3)]


def test_flush_writes_the_lines_waiting(handler: logs.AccessHandler) -> None:
    """logging's shutdown flushes every handler: a pass cut short loses no line."""
    async def cut_short() -> list[str]:
        _line(handler, 5)
        handler.flush()
        return _written(handler)

    assert run_coroutine(cut_short()) == [f"{5:032x}"]


def test_a_stream_failing_at_the_end_of_a_pass_is_reported_and_the_loop_goes_on(
        handler: logs.AccessHandler, capsys: pytest.CaptureFixture[str]) -> None:
    async def answers_then_more() -> str:
        _line(handler, 1)
        handler.stream.close()
        await asyncio.sleep(0)
        return "went on"

    assert run_coroutine(answers_then_more()) == "went on"
    assert "--- Logging error ---" in capsys.readouterr().err


PROCESS = textwrap.dedent("""
    import asyncio, sys
    from app.observability import logs
    handler = logs.AccessHandler(sys.stderr)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())
    name = sys.argv[1]
    async def main():
        for batch in range(20):
            for n in range(200):
                handler.write_access(f"{name}-{batch}-{n}", "GET /id\u00e9es/" + "\u00e9" * (n * 3) + " 200 1.0ms",
                                     "idea:detail", 200, 1.0, 1.0e9)
            await asyncio.sleep(0)
    asyncio.run(main())
""")
WHOLE_LINE = re.compile(r'^\{"level":"INFO".*"request_id":"([ab]-\d+-\d+)".*"time":"[^"]+"\}$')


@pytest.mark.parametrize("encoding", ["utf-8", "ascii:backslashreplace"])
def test_server_processes_sharing_standard_error_never_mix_parts_of_lines(encoding: str) -> None:
    """Two processes writing 4,000 lines each, in passes of 200 lines (about 140 KB, more than a
    pipe holds) to one pipe (standard error under systemd or a container): every line read is
    one whole line, each process's in order. Also where standard error is ASCII (a C locale,
    PYTHONIOENCODING): each accented letter of a path, written as `\\xe9`, takes 4 bytes there."""
    read, write = os.pipe()
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    processes = [subprocess.Popen([sys.executable, "-c", PROCESS, name], stderr=write, env=env) for name in ("a", "b")]
    os.close(write)
    with open(read, "rb") as pipe:
        received = pipe.read().decode("utf-8").splitlines()
    assert [p.wait(timeout=60) for p in processes] == [0, 0], received[-5:]
    matched = [WHOLE_LINE.match(line) for line in received]
    assert all(matched), [line[:80] for line, m in zip(received, matched, strict=True) if not m][:3]
    ids = [m.group(1) for m in matched if m]
    for name in ("a", "b"):
        expected = [f"{name}-{b}-{n}" for b in range(20) for n in range(200)]
        assert [i for i in ids if i.startswith(f"{name}-")] == expected


class FailsOnce(Recording):
    """A stream whose second write fails (a non-blocking pipe full, a disk full for a moment)."""

    def write(self, text: str) -> int:
        if len(self.writes) == 1:
            self.writes.append("")
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return super().write(text)


def test_a_failed_write_loses_its_own_lines_only_and_says_how_many(capsys: pytest.CaptureFixture[str]) -> None:
    handler = logs.AccessHandler(FailsOnce())
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.RequestIdFilter())

    async def pass_of_answers() -> None:
        for n in range(60):
            _line(handler, n)
        await asyncio.sleep(0)

    run_coroutine(pass_of_answers())
    written = _written(handler)
    lost = 60 - len(written)
    assert 0 < lost < 30 and written[-1] == f"{59:032x}"  # the chunks after the failed one written
    assert f"Arguments: ({lost},)" in capsys.readouterr().err


def test_lines_a_closed_loop_left_come_before_a_line_written_without_a_loop(handler: logs.AccessHandler) -> None:
    def close_a_loop_then_write() -> None:  # in a thread of its own, as `run_coroutine` says why
        loop = asyncio.new_event_loop()

        async def answer_then_stop() -> None:
            _line(handler, 1)
            loop.stop()

        loop.create_task(answer_then_stop())
        loop.run_forever()
        loop.close()  # the callback writing line 1 was still due
        _line(handler, 2)

    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(close_a_loop_then_write).result()
    assert _written(handler) == [f"{1:032x}", f"{2:032x}"]

"""Photos decoded off the web process, in children with their own memory and CPU limits.

`process_image` has the promises and the refusals of `app.media.images.process_image`, whose
work it hands to a small server program (`app/media/sandbox_server.py`) that forks one child
per photo. The request still waits for the answer, so a citizen sees exactly what they saw
before; what changes is where the pixels live. A 12 MP decode's memory is the child's, and is
given back when it exits; an image bomb or a file crafted to make a codec loop or crash can
only get the child killed (address-space and CPU limits, `resource.setrlimit`, from
`Settings.photo_sandbox_*`), and is refused like any unreadable file: "This photo could not be
read". A child that does not answer in time is killed with its server.

Why not `concurrent.futures.ProcessPoolExecutor`: its 'spawn' and 'forkserver' children
re-import the main script (for `reinventons serve`, the whole application: 2.7 s of CPU and
150 MB each), and a CPU limit set once in a long-lived worker would count every photo it ever
decoded. The server here imports Pillow only, and forks a fresh child per photo (a few
milliseconds).

Each web process starts its own servers lazily (at most `SERVERS`, one per photo being decoded
at the same time; a third upload waits its turn), and `shutdown` (the application's lifespan)
stops them. A server that died is replaced at the next photo.

The same program detects the language of citizens' texts (`detect`, for `app.contentlang`), so
that no web process loads py3langid's model (about 60 MB and 0.6 s of CPU). It does so in one
more server of its own, loaded once and kept, not in the photo servers: the model is then loaded
once per web process instead of once per photo server, a comment never waits behind a photo being
decoded, and the photo servers, which fork a child per photo, stay small. Same program rather than
a second one: one protocol, one way of starting a helper without the web process's environment
and descriptors, one way of recovering from its death.
"""

import contextlib
import logging
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.media import images
from app.media.images import ImageRejected, ProcessedImage, Refusal, Variant
from app.media.sandbox_server import MAX_ANSWER_BYTES, frame, read_frame

log = logging.getLogger(__name__)

SERVER_PROGRAM = Path(__file__).with_name("sandbox_server.py")
# Photos decoded at the same time by one web process (a 40 MP PNG takes ~170 MB in its child).
SERVERS = 2


@dataclass(frozen=True)
class Limits:
    """What one photo's child may use: `memory_bytes` of address space beyond what it maps at
    start, `cpu_seconds` of CPU time (whole seconds, the kernel's unit), and `timeout_seconds` of
    wall time for the answer, after which it is killed. 0 means no limit (tests, benchmarks)."""

    memory_bytes: int
    cpu_seconds: int
    timeout_seconds: float


@dataclass(frozen=True)
class Usage:
    """What decoding one photo cost its child: CPU milliseconds, and resident memory in KiB at
    its start (mostly Pillow, shared with its server) and at its peak (Linux VmHWM)."""

    cpu_ms: float
    rss_start_kib: int
    rss_peak_kib: int


class _Failed(Exception):
    """The server did not answer properly: it is killed and the photo refused. `gone`: it had
    ended before answering (killed while idle, say), which no photo can cause, since photos are
    decoded in its children: the photo is then tried once more on a new server."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


class _Server:
    def __init__(self) -> None:
        # -I: no PYTHONPATH, no user site, no script folder on sys.path: the program loads only
        # Pillow and the pipeline's file. Its own session: killing it kills its child too, and a
        # Ctrl-C meant for the web process does not interrupt it (it ends when its input closes).
        # An empty environment and no inherited descriptors: a child that a crafted file took
        # over finds no database address, key or socket of the web process there. It still runs
        # as the web process's user, though: it can read that process's /proc/<pid>/environ and
        # whatever files that user can (limits on resources, not on privileges).
        self.process = subprocess.Popen([sys.executable, "-I", str(SERVER_PROGRAM)],  # noqa: S603
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={"PATH": os.defpath},
                                        close_fds=True, start_new_session=True, bufsize=0)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, message: bytes, deadline: float | None,
            max_payload: int = MAX_ANSWER_BYTES) -> tuple[dict[str, Any], bytes]:
        assert self.process.stdin is not None and self.process.stdout is not None
        _write_all(self.process.stdin.fileno(), message, deadline)
        reader = _DeadlineReader(self.process.stdout.fileno(), deadline)
        try:
            answer = read_frame(reader, max_payload)
        except ValueError as exc:
            raise _Failed(f"malformed answer: {exc}") from exc
        if answer is None:
            raise _Failed("server ended", gone=True)
        return answer

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self._reap()

    def close(self) -> None:
        """Ends the server once its current photo, if any, is done."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
        self._reap()

    def _reap(self) -> None:
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Failed("timed out")
    return left


def _write_all(fd: int, data: bytes, deadline: float | None) -> None:
    view = memoryview(data)
    os.set_blocking(fd, False)
    try:
        while view:
            _, ready, _ = select.select([], [fd], [], _remaining(deadline))
            if not ready:
                raise _Failed("timed out")
            try:
                view = view[os.write(fd, view):]
            except BlockingIOError:
                continue
            except OSError as exc:  # BrokenPipeError: the server is gone
                raise _Failed(f"server unreachable: {exc}", gone=True) from exc
    finally:
        os.set_blocking(fd, True)


class _DeadlineReader:
    """`read(n)` on a pipe that gives up at `deadline` (a `time.monotonic()` value)."""

    def __init__(self, fd: int, deadline: float | None) -> None:
        self.fd, self.deadline = fd, deadline

    def read(self, size: int) -> bytes:
        chunks, wanted = [], size
        while wanted:
            ready, _, _ = select.select([self.fd], [], [], _remaining(self.deadline))
            if not ready:
                raise _Failed("timed out")
            chunk = os.read(self.fd, min(wanted, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            wanted -= len(chunk)
        return b"".join(chunks)


_slots = threading.BoundedSemaphore(SERVERS)
_lock = threading.Lock()
_idle: list[_Server] = []


def _take() -> _Server:
    with _lock:
        while _idle:
            server = _idle.pop()
            if server.alive():
                return server
            server.kill()  # reaps it
    return _Server()


def _give_back(server: _Server) -> None:
    with _lock:
        _idle.append(server)


def server_pids() -> list[int]:
    """The process ids of this process's idle servers (tests, operators' diagnostics)."""
    with _lock:
        return [server.pid for server in _idle]


def shutdown() -> None:
    """Stops this process's idle servers, the detection server included (the application's
    lifespan; a busy one is kept and ends by itself with the process, when its input closes).
    The next failure of a detection server started afterwards is warned of again."""
    global _detector, _warned
    _warned = False
    with _lock:
        servers = list(_idle)
        _idle.clear()
    if _detector_lock.acquire(timeout=DETECT_TIMEOUT_SECONDS):
        try:
            if _detector is not None:
                servers.append(_detector)
            _detector = None
        finally:
            _detector_lock.release()
    for server in servers:
        server.close()


def _positive(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _Failed(f"bad number {value!r}")
    return value


def _processed(header: dict[str, Any], payload: bytes, max_pixels: int) -> ProcessedImage:
    """The pipeline's result from a child's answer, checked field by field (a child that read
    hostile input is not trusted to say anything but numbers and names within bounds): the
    source within `max_pixels`, every variant of `images.VARIANT_SIZES` exactly once, at the
    size `images.fit` gives for the source, and its bytes a JPEG's (what they are served as)."""
    width, height = _positive(header.get("width")), _positive(header.get("height"))
    if width * height > max_pixels:
        raise _Failed(f"source of {width}x{height} over the pixel limit")
    variants: dict[str, Variant] = {}
    offset = 0
    items = header.get("variants")
    for item in items if isinstance(items, list) else []:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or name not in images.VARIANT_SIZES or name in variants:
            raise _Failed(f"unknown variant {name!r}")
        size = _positive(item.get("size"))
        variant = Variant(name, _positive(item.get("width")), _positive(item.get("height")),
                          payload[offset:offset + size])
        if (variant.width, variant.height) != images.fit((width, height), images.VARIANT_SIZES[name]):
            raise _Failed(f"variant {name} of {variant.width}x{variant.height}")
        if images.sniff_format(variant.data) != "JPEG":
            raise _Failed(f"variant {name} is no JPEG")
        variants[name] = variant
        offset += size
    fmt = header.get("source_format")
    if offset != len(payload) or set(variants) != set(images.VARIANT_SIZES) or fmt not in ("JPEG", "PNG", "WEBP"):
        raise _Failed("inconsistent answer")
    return ProcessedImage(source_format=str(fmt), width=width, height=height, variants=variants,
                          decoded_by=_positive(header.get("pid")))


def _usage(value: Any) -> Usage:
    """The child's figures; any that is not a finite number within bounds counts as 0."""
    figures = value if isinstance(value, dict) else {}
    numbers = [figures.get(k) for k in ("cpu_ms", "rss_start_kib", "rss_peak_kib")]
    cpu, start, peak = (v if isinstance(v, int | float) and math.isfinite(v) and 0 <= v < 1 << 53 else 0
                        for v in numbers)
    return Usage(cpu_ms=float(cpu), rss_start_kib=int(start), rss_peak_kib=int(peak))


def process_image(data: bytes, *, max_bytes: int, max_pixels: int, limits: Limits) -> ProcessedImage:
    """`app.media.images.process_image` (the default variant sizes) in a child process; raises
    ImageRejected as it does, and ImageRejected(Refusal.corrupt) when the child went past its
    `limits`, died or did not answer. `decoded_by` of the result is the child's process id.

    Files refused on their size or first bytes are refused here without starting anything."""
    return process_with_usage(data, max_bytes=max_bytes, max_pixels=max_pixels, limits=limits)[0]


def process_with_usage(data: bytes, *, max_bytes: int, max_pixels: int,
                       limits: Limits) -> tuple[ProcessedImage, Usage]:
    """`process_image`, with what it cost the child (scripts/bench_images.py)."""
    images.check_envelope(data, max_bytes)
    request = frame({"max_bytes": max_bytes, "max_pixels": max_pixels,
                     "memory_bytes": limits.memory_bytes, "cpu_seconds": limits.cpu_seconds}, data)
    with _slots:
        deadline = time.monotonic() + limits.timeout_seconds if limits.timeout_seconds > 0 else None
        for attempt in (1, 2):
            server = _take()
            try:
                header, payload = server.ask(request, deadline)
                result = _processed(header, payload, max_pixels) if header.get("ok") is True else None
            except _Failed as exc:
                server.kill()
                if exc.gone and attempt == 1:
                    log.info("photo sandbox %s: %s; trying a new server", server.pid, exc)
                    continue
                # Twice gone: the server cannot run at all (an operator's problem, not the photo's).
                log.log(logging.ERROR if exc.gone else logging.WARNING,
                        "photo sandbox %s: %s; server killed, photo refused", server.pid, exc)
                raise ImageRejected(Refusal.corrupt, str(exc)) from exc
            except BaseException:
                server.kill()
                raise
            _give_back(server)
            break
    if result is not None:
        return result, _usage(header.get("usage"))
    reason, detail = header.get("reason"), str(header.get("detail", ""))[:200]
    known = reason in {r.value for r in Refusal}
    if not known or detail.startswith(("child died", "memory limit")):  # a limit hit: perhaps an attack
        log.warning("photo sandbox: photo refused: %s, %s", reason, detail)
    raise ImageRejected(Refusal(str(reason)) if known else Refusal.corrupt, detail)


# --- Language detection ----------------------------------------------------------------------

DETECT_MAX_CHARACTERS = 2_000  # what is sent: the first 2,000 characters tell the language
# The first detection of a server starts it and loads the model (0.6 s of CPU, more on a busy
# machine); the following ones take milliseconds.
DETECT_TIMEOUT_SECONDS = 10.0

_detector_lock = threading.Lock()
_detector: _Server | None = None
_warned = False  # a failure is logged as a warning once, until a detection works again


@dataclass(frozen=True)
class Detected:
    """What the detection server said of a text: the most probable of the languages asked about,
    its probability (0 to 1, py3langid's normalised score) and the server's process id."""

    language: str
    probability: float
    pid: int


def detector_pid() -> int | None:
    """The process id of this process's detection server, if one runs (tests, diagnostics)."""
    with _detector_lock:
        return _detector.pid if _detector is not None else None


def _detected(header: dict[str, Any], languages: Collection[str]) -> Detected:
    """The answer checked field by field."""
    language, probability = header.get("language"), header.get("probability")
    if (header.get("ok") is not True or not isinstance(language, str) or language not in languages
            or not isinstance(probability, int | float) or isinstance(probability, bool)
            or not 0 <= probability <= 1):
        raise _Failed(f"unexpected answer {str(header)[:200]}")
    return Detected(language, float(probability), _positive(header.get("pid")))


def _failed(message: str) -> None:
    global _warned
    log.log(logging.INFO if _warned else logging.WARNING,
            "language detection server: %s; the language is left unknown", message)
    _warned = True


def warm_up_detector() -> None:
    """Start this process's detection server and load its model now, with a detection of a
    fixed sentence, rather than at the first text a citizen sends: that first detection took
    0.75-0.85 s (the model loading), inside the comment's or idea's write turn on SQLite, where
    every other writer of the process queued behind it (the comment benchmark's p99 of 1.7 s).
    Called by the application's lifespan in a thread of its own; never raises."""
    detect("Une idée pour la ville de Liège: des bancs dans le parc.", ("fr", "nl", "de", "en"))


def detect(text: str, languages: Collection[str]) -> Detected | None:
    """The most probable of `languages` (two-letter codes) for the first DETECT_MAX_CHARACTERS
    characters of `text`, asked of this process's detection server (started on first use), or
    None when it could not say in DETECT_TIMEOUT_SECONDS: not started, died, hung (it is then
    killed, and a new one started at the next detection) or answered nonsense. Never raises."""
    global _detector, _warned
    request = frame({"kind": "detect", "languages": sorted(languages)},
                    text[:DETECT_MAX_CHARACTERS].encode("utf-8", errors="replace"))
    if not _detector_lock.acquire(timeout=DETECT_TIMEOUT_SECONDS):
        _failed("busy past the timeout")  # another detection waits for a hung server
        return None
    try:
        # From here: time spent waiting for the lock must not get a healthy server killed.
        deadline = time.monotonic() + DETECT_TIMEOUT_SECONDS
        for attempt in (1, 2):
            try:
                if _detector is None or not _detector.alive():
                    if _detector is not None:
                        _detector.kill()
                    _detector = _Server()
                header, _ = _detector.ask(request, deadline, max_payload=0)
                result = _detected(header, languages)
            except (_Failed, OSError) as exc:
                if _detector is not None:
                    _detector.kill()
                    _detector = None
                if isinstance(exc, _Failed) and exc.gone and attempt == 1:
                    continue  # killed while idle: once more, on a new server
                _failed(str(exc))
                return None
            except BaseException:  # interrupted half-way: the server's place in the protocol is unknown
                if _detector is not None:
                    _detector.kill()
                    _detector = None
                raise
            _warned = False
            return result
        return None
    finally:
        _detector_lock.release()

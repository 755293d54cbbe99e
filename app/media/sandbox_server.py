"""The sandbox's server program: decodes and re-encodes photos for a web process, in a forked
child with its own memory and CPU limits, and detects the language of citizens' texts, here, with
a model loaded once. Started by `app.media.sandbox`, never imported by the application.

It runs as `python -I <this file>`: no `app` package, whose import pulls SQLModel (about 40 MB
and 0.3 s of CPU), only Pillow and the pipeline itself (`images.py`, loaded from its file, which
imports nothing of the application). It stays small (about 25 MB), single-threaded, so that
`os.fork()` is safe and cheap: each photo gets a fresh child, whose CPU time starts at zero (a
CPU limit is per process, cumulative), whose memory goes back to the system when it exits, and
whose death (killed by a limit, a crash in a codec) takes nothing else with it.

Protocol, on the server's standard input and output (`frame` / `read_frame`): a request is
{"max_bytes", "max_pixels", "memory_bytes", "cpu_seconds"} with the file's bytes; an answer is
{"ok": true, "pid", "usage", "source_format", "width", "height", "variants": [{"name", "width",
"height", "size"}...]} with the variants' bytes one after another, or {"ok": false, "reason",
"detail"}. A detection request is {"kind": "detect", "languages": ["fr", ...]} with the text in
UTF-8 (at most MAX_DETECT_BYTES); its answer {"ok": true, "language": "fr" or null, "probability"}.
Headers are JSON, never pickle: the web process must not execute anything a child that read
hostile input could have written.

Pillow and the pipeline are loaded at the first photo, py3langid at the first detection: a web
process runs one server for detections alone (`app.media.sandbox`), which never loads Pillow, and
servers for photos, which never load the model (about 50 MB).
"""

import functools
import importlib.util
import io
import json
import os
import resource
import signal
import struct
import sys
import traceback
from pathlib import Path
from typing import Any, Protocol

_HEADER = struct.Struct(">II")  # header length, payload length
MAX_HEADER = 64 * 1024
MAX_DETECT_BYTES = 16 * 1024  # the web side sends at most 2,000 characters (up to 4 bytes each)
MAX_ANSWER_BYTES = 64 * 1024 * 1024  # a child's payload: three JPEG variants of at most 1600 px are far below


def frame(header: dict[str, Any], payload: bytes = b"") -> bytes:
    """One message: 8 bytes of lengths, a JSON header, the payload."""
    text = json.dumps(header).encode()
    return _HEADER.pack(len(text), len(payload)) + text + payload


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def read_frame(stream: Readable, max_payload: int) -> tuple[dict[str, Any], bytes] | None:
    """The next message of `stream`, or None at its end. ValueError when it is malformed."""
    head = stream.read(_HEADER.size)
    if not head:
        return None
    if len(head) < _HEADER.size:
        raise ValueError("truncated frame")
    header_len, payload_len = _HEADER.unpack(head)
    if header_len > MAX_HEADER or payload_len > max_payload:
        raise ValueError("frame too large")
    text, payload = stream.read(header_len), stream.read(payload_len)
    if len(text) < header_len or len(payload) < payload_len:
        raise ValueError("truncated frame")
    try:
        header = json.loads(text)
    except RecursionError as exc:  # a header of nested brackets: malformed, like any bad JSON
        raise ValueError("header nested too deeply") from exc
    if not isinstance(header, dict):
        raise ValueError("header is not an object")
    return header, payload


def _load_pipeline() -> Any:
    path = Path(__file__).with_name("images.py")
    spec = importlib.util.spec_from_file_location("photo_pipeline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["photo_pipeline"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _status_kib(field: str) -> int:
    """A figure of /proc/self/status (Linux), in KiB: VmSize, VmRSS, VmHWM..."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    # Address space: what the child already maps (the interpreter, Pillow) plus the budget, so
    # the budget means the same whatever the libraries weigh. Over it, allocations fail
    # (MemoryError), they do not swap. CPU: SIGXCPU at the soft limit, SIGKILL a second later.
    # No core file: SIGXCPU would otherwise dump a child of hundreds of MB wherever it runs.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_bytes > 0:
        limit = _status_kib("VmSize") * 1024 + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def _answer(pipeline: Any, request: dict[str, Any], data: bytes) -> bytes:
    """What a child sends back for one photo. `usage` says what decoding it cost the child:
    CPU milliseconds, resident KiB at the start (shared with the server) and at the peak."""
    cpu_start, rss_start = _cpu_ms(), _status_kib("VmRSS")
    try:
        processed = pipeline.process_image(data, max_bytes=int(request["max_bytes"]),
                                           max_pixels=int(request["max_pixels"]))
    except pipeline.ImageRejected as exc:
        return frame({"ok": False, "reason": str(exc.reason), "detail": exc.detail[:200]})
    except MemoryError:
        return frame({"ok": False, "reason": "corrupt", "detail": "memory limit"})
    variants = list(processed.variants.values())
    usage = {"cpu_ms": round(_cpu_ms() - cpu_start, 1), "rss_start_kib": rss_start,
             "rss_peak_kib": _status_kib("VmHWM")}
    return frame({"ok": True, "pid": os.getpid(), "usage": usage, "source_format": processed.source_format,
                  "width": processed.width, "height": processed.height,
                  "variants": [{"name": v.name, "width": v.width, "height": v.height, "size": len(v.data)}
                               for v in variants]},
                 b"".join(v.data for v in variants))


def _run_child(pipeline: Any, request: dict[str, Any], data: bytes, out_fd: int) -> None:
    status = 1
    try:
        _limit(int(request.get("memory_bytes", 0)), int(request.get("cpu_seconds", 0)))
        reply = _answer(pipeline, request, data)
        with os.fdopen(out_fd, "wb") as out:
            out.write(reply)
        status = 0
    except BaseException:  # noqa: BLE001 - anything else: the server reports a failure
        traceback.print_exc()
    finally:
        os._exit(status)  # never back into the server's loop, no atexit handlers


def _one_frame(reply: bytes) -> bool:
    """Whether `reply` is exactly one message: the web process reads one answer per photo, and
    bytes beyond it would be read as the answer for its next photo (someone else's)."""
    if len(reply) < _HEADER.size:
        return False
    header_len, payload_len = _HEADER.unpack_from(reply)
    return header_len <= MAX_HEADER and len(reply) == _HEADER.size + header_len + payload_len


def _serve_one(pipeline: Any, request: dict[str, Any], data: bytes, server_fds: tuple[int, ...]) -> bytes:
    """Runs one photo in a forked child; its answer, or a failure when it did not finish.
    `server_fds` are closed in the child: only the server talks to the web process, so that
    its end of the pipes closes when the server dies, whatever a child is doing."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        for fd in server_fds:
            os.close(fd)
        _run_child(pipeline, request, data, write_fd)
    os.close(write_fd)
    chunks: list[bytes] = []
    total = 0
    with os.fdopen(read_fd, "rb") as answer:  # read before waiting: the answer exceeds a pipe's buffer
        while chunk := answer.read(1 << 20):
            total += len(chunk)
            if total > _HEADER.size + MAX_HEADER + MAX_ANSWER_BYTES:  # a child writing without end
                os.kill(pid, signal.SIGKILL)  # would otherwise fill this server's memory
                chunks = []
                break
            chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    reply = b"".join(chunks)
    if status == 0 and _one_frame(reply):
        return reply
    if status == 0:  # a child that a crafted file took over, writing what it likes
        return frame({"ok": False, "reason": "corrupt", "detail": "child answered no single message"})
    cause = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.waitstatus_to_exitcode(status)}"
    return frame({"ok": False, "reason": "corrupt", "detail": f"child died: {cause}"})


def _warm_up(pipeline: Any) -> None:
    """One tiny photo of each format through the pipeline, here, once: Pillow imports its format
    plugins and codecs on first use, and every child would otherwise pay for it again."""
    for fmt in ("JPEG", "PNG", "WEBP"):
        out = io.BytesIO()
        pipeline.Image.new("RGB", (8, 8), "white").save(out, fmt)
        pipeline.process_image(out.getvalue(), max_bytes=1 << 20, max_pixels=1 << 20)


@functools.cache
def _pipeline() -> Any:
    pipeline = _load_pipeline()
    _warm_up(pipeline)
    return pipeline


@functools.cache
def _identifier(languages: tuple[str, ...]) -> Any:
    """py3langid's identifier restricted to `languages`, loaded once (0.6 s of CPU). The full
    model stays referenced by an identifier restricted with set_languages; one rebuilt from the
    restricted tables lets the scores of the other languages go (27 MB; about 50 MB remain,
    mostly the tokenizer's tables)."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    full.set_languages(list(languages))
    return LanguageIdentifier(full.nb_ptc, full.nb_pc, full.nb_classes, full.tk_nextmove, full.tk_output,
                              norm_probs=True, tk_row=full.tk_row)


def _detect(request: dict[str, Any], data: bytes) -> bytes:
    """The answer to a detection request: the most probable of the request's languages and its
    probability (the web process decides whether that is sure enough)."""
    languages = request.get("languages")
    if (not isinstance(languages, list) or not languages or len(languages) > 20
            or not all(isinstance(code, str) and len(code) == 2 and code.isalpha() for code in languages)):
        return frame({"ok": False, "reason": "bad request", "detail": "languages"})
    if len(data) > MAX_DETECT_BYTES:
        return frame({"ok": False, "reason": "bad request", "detail": "text too long"})
    text = data.decode("utf-8", errors="replace")
    try:
        language, probability = _identifier(tuple(sorted(set(languages)))).classify(text)
    except Exception as exc:  # noqa: BLE001 - py3langid missing or broken: said, and the server goes on
        return frame({"ok": False, "reason": "failed", "detail": repr(exc)[:200]})
    return frame({"ok": True, "pid": os.getpid(), "language": str(language), "probability": float(probability)})


def main() -> None:
    """Serves requests from standard input until it closes (its web process ended)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the web process, which closes our input
    # Answers go to a private copy of standard output; whatever a codec might print goes to stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    while True:
        message = read_frame(requests, max_payload=1 << 30)
        if message is None:
            return
        request, data = message
        if request.get("kind") == "detect":
            replies.write(_detect(request, data))
        else:
            replies.write(_serve_one(_pipeline(), request, data, (0, replies.fileno())))
        replies.flush()


if __name__ == "__main__":
    main()

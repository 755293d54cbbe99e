"""wrk (https://github.com/wg/wrk, Debian's package) as the load generator: a separate process
on loopback, bounded in time, its latency distribution read from its `--latency` report.

POSTs by many distinct people come from a Lua script that sends, request after request, the
lines of a file (path, Cookie header, form body), each thread its own share of the lines, so no
two requests of a run carry the same person and idea."""

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

POST_SCRIPT = r"""
local lines = {}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
  nthreads = tonumber(args[2])
end

function request()
  local i = counter * nthreads + tid
  counter = counter + 1
  local line = lines[(i % #lines) + 1]
  local path, cookie, body = line:match("([^\t]+)\t([^\t]+)\t(.+)")
  return wrk.format("POST", path, {["Cookie"] = cookie, ["Accept"] = "application/json",
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
"""

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Measure:
    """One page under load: requests per second, latency percentiles (ms), answers that were
    not 2xx or 3xx, and requests done."""

    name: str
    path: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not found:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse(name: str, path: str, report: str) -> Measure:
    """A Measure from wrk's `--latency` report (raises ValueError when it is not one)."""
    p50 = re.search(r"^\s+50%\s+(\S+)", report, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", report, re.M)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", report, re.M)
    done = re.search(r"^\s+(\d+) requests in", report, re.M)
    errors = re.search(r"^\s+Non-2xx or 3xx responses:\s+(\d+)", report, re.M)
    if not (p50 and p99 and rate and done):
        raise ValueError(f"wrk said:\n{report}")
    return Measure(name=name, path=path, requests_per_s=float(rate.group(1)), p50_ms=_ms(p50.group(1)),
                   p99_ms=_ms(p99.group(1)), non_2xx=int(errors.group(1)) if errors else 0,
                   requests=int(done.group(1)))


def wrk_path() -> str:
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed: scripts/setup installs it (Debian's package wrk).")
    return found


def get(base: str, name: str, path: str, *, seconds: int, threads: int, connections: int,
        cookie: str = "") -> Measure:
    """GET `path` for `seconds` seconds from `connections` connections."""
    command = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    answer = subprocess.run([*command, base + path], capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse(name, path, answer.stdout)


def post(base: str, name: str, lines: list[str], *, seconds: int, threads: int, connections: int) -> Measure:
    """POST the `lines` ("path<TAB>cookie<TAB>form body") in turn for `seconds` seconds."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as folder:
        script, data = Path(folder) / "post.lua", Path(folder) / "lines.tsv"
        script.write_text(POST_SCRIPT)
        data.write_text("\n".join(lines) + "\n")
        answer = subprocess.run(
            [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
             "-s", str(script), base + "/", "--", str(data), str(threads)],
            capture_output=True, text=True, check=True, timeout=seconds + 60)
    first = lines[0].split("\t", 1)[0]
    return parse(name, re.sub(r"/\d+/", "/{id}/", first), answer.stdout)

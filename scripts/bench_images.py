"""How much a photo costs to process: CPU time and peak memory per upload.

    .venv/bin/python scripts/bench_images.py [--runs 7]

Makes a 12 MP camera-like JPEG (4000x3000, gradient + noise, ~quality 90) and, for
comparison, a 3 MP PNG and a 35 MP PNG, then runs the whole pipeline (validation, draft
decoding, variants, JPEG encoding) several times, two ways:

- "pipeline": `app.media.images.process_image` in this process. Median CPU time, and the
  peak resident memory added by one upload, measured in a fresh process (Linux VmHWM minus
  VmRSS just before), since a warm process reuses memory it already holds.
- "sandbox": the way uploads run, `app.media.sandbox` (a child per photo, with the default
  limits). The child's own CPU time and its peak resident memory (VmHWM, Pillow's pages it
  shares with its server included, and the part the photo added), the CPU time this (web)
  process spent sending the photo and reading the answer, and the wall time.

Takes well under a minute.
"""

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.media import sandbox  # noqa: E402
from app.media.images import VARIANT_SIZES, process_image  # noqa: E402
from app.media.service import sandbox_limits  # noqa: E402
from app.settings import Settings  # noqa: E402

MAX_BYTES, MAX_PIXELS = 10 * 1024 * 1024, 40_000_000


def camera_like(width: int = 4000, height: int = 3000) -> Image.Image:
    gradient = Image.linear_gradient("L").resize((width, height))
    blotches = Image.effect_noise((width // 8, height // 8), 60).resize((width, height), Image.Resampling.BICUBIC)
    grain = Image.effect_noise((width, height), 10)
    red = ImageChops.add(gradient, grain, 1.0, -10)
    return Image.merge("RGB", (red, blotches, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


CHILD = """
import sys
from pathlib import Path
from app.media.images import process_image

def kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

data = Path(sys.argv[1]).read_bytes()
process_image(Path(sys.argv[2]).read_bytes(), max_bytes=10 << 20, max_pixels=40_000_000)  # loads codecs
before = kib("VmRSS")
process_image(data, max_bytes=10 << 20, max_pixels=40_000_000)
print((kib("VmHWM") - before) / 1024)
"""


def peak_memory_mib(data: bytes) -> float | None:
    """Peak resident memory added by processing `data` once, in a fresh process (Linux)."""
    if not Path("/proc/self/status").exists():
        return None
    with tempfile.TemporaryDirectory() as folder:
        source, small = Path(folder) / "source", Path(folder) / "small"
        source.write_bytes(data)
        small.write_bytes(encoded(Image.new("RGB", (64, 48), "white"), "PNG"))
        out = subprocess.run([sys.executable, "-c", CHILD, str(source), str(small)], check=True,  # noqa: S603
                             capture_output=True, text=True, cwd=ROOT)
    return float(out.stdout.strip())


def measure(label: str, data: bytes, runs: int) -> None:
    process_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)  # warm-up: codecs, caches
    cpu, wall = [], []
    result = None
    for _ in range(runs):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        result = process_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started_wall) * 1000)
    assert result is not None
    sizes = ", ".join(f"{v.name} {v.width}x{v.height} {len(v.data) / 1024:.0f} KiB" for v in result.variants.values())
    peak = peak_memory_mib(data)
    peak_text = f"{peak:.0f} MiB" if peak is not None else "n/a"
    print(f"{label}: {len(data) / 1024 / 1024:.1f} MiB in; median CPU {statistics.median(cpu):.0f} ms "
          f"(min {min(cpu):.0f}, max {max(cpu):.0f}) over {runs} runs, median wall {statistics.median(wall):.0f} ms; "
          f"peak memory of one upload {peak_text}")
    print(f"  variants: {sizes}")
    measure_sandbox(data, runs)


def measure_sandbox(data: bytes, runs: int) -> None:
    limits = sandbox_limits(Settings(_env_file=None))  # type: ignore[call-arg]
    sandbox.process_image(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, limits=limits)  # starts the server
    child_cpu, parent_cpu, wall, peak, added = [], [], [], [], []
    for _ in range(runs):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        _result, usage = sandbox.process_with_usage(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, limits=limits)
        parent_cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started_wall) * 1000)
        child_cpu.append(usage.cpu_ms)
        peak.append(usage.rss_peak_kib / 1024)
        added.append((usage.rss_peak_kib - usage.rss_start_kib) / 1024)
    print(f"  sandbox: child CPU median {statistics.median(child_cpu):.0f} ms (max {max(child_cpu):.0f}); "
          f"child peak memory {max(peak):.0f} MiB, of which the photo {max(added):.0f} MiB; "
          f"web process CPU {statistics.median(parent_cpu):.0f} ms; median wall {statistics.median(wall):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    image = camera_like()
    jpeg = encoded(image, "JPEG", quality=90)
    png = encoded(image.resize((2000, 1500)), "PNG", compress_level=1)
    del image
    print(f"variants: {', '.join(f'{k} {w}x{h}' for k, (w, h) in VARIANT_SIZES.items())}; output JPEG")
    measure("12 MP JPEG (4000x3000)", jpeg, args.runs)
    measure("3 MP PNG (2000x1500)", png, args.runs)
    big_png = encoded(Image.linear_gradient("L").resize((7000, 5000)).convert("RGB"), "PNG")
    if len(big_png) <= MAX_BYTES:
        measure("35 MP PNG (7000x5000, smooth), near the pixel limit", big_png, max(1, args.runs // 2))
    sandbox.shutdown()


if __name__ == "__main__":
    main()

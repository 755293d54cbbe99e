"""The pure pipeline (app.media.images): what comes out of it, and what never gets in."""

import io
import time
import tracemalloc

import pytest
from PIL import Image

from app.media import images
from app.media.demo_images import generate_demo_photo
from app.media.images import ImageRejected, ProcessedImage, Refusal, process_image
from tests.media import samples

MAX_BYTES, MAX_PIXELS = 10 * 1024 * 1024, 40_000_000


def process(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> ProcessedImage:
    return process_image(data, max_bytes=max_bytes, max_pixels=max_pixels)


def refusal(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS) -> Refusal:
    with pytest.raises(ImageRejected) as caught:
        process(data, max_bytes=max_bytes, max_pixels=max_pixels)
    return caught.value.reason


def reopen(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("icc", [True, False], ids=["with-icc", "without-icc"])
def test_gps_tagged_jpeg_comes_out_without_any_metadata(icc: bool) -> None:
    source = samples.gps_jpeg(icc=icc)
    assert all(word in source for word in samples.SECRET_WORDS)  # the sample really carries them

    result = process(source)

    assert set(result.variants) == {"display", "card", "thumb"}
    for variant in result.variants.values():
        out = reopen(variant.data)
        assert out.format == "JPEG"
        assert not out.getexif()
        assert out.getexif().get_ifd(0x8825) == {}
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(out.info)
        assert b"Exif" not in variant.data and b"http://ns.adobe.com" not in variant.data
        for word in samples.SECRET_WORDS:
            assert word not in variant.data


@pytest.mark.parametrize("orientation", [6, 8])
def test_exif_orientation_is_applied(orientation: int) -> None:
    # Stored 640x480, top half red; orientation 6 (or 8) means "turn 90° clockwise (or anti-)".
    result = process(samples.gps_jpeg(orientation=orientation))

    assert (result.width, result.height) == (480, 640)
    out = reopen(result.variants["thumb"].data).convert("RGB")
    assert out.size == (360, 480)
    left, right = out.getpixel((20, 240)), out.getpixel((340, 240))
    red_side, blue_side = (right, left) if orientation == 6 else (left, right)
    assert isinstance(red_side, tuple) and isinstance(blue_side, tuple)
    assert red_side[0] > 200 and red_side[2] < 60
    assert blue_side[2] > 200 and blue_side[0] < 60


def test_variants_fit_their_boxes_and_are_never_enlarged() -> None:
    big = process(samples.encode(samples.picture((3000, 1000)), "JPEG"))
    assert {k: (v.width, v.height) for k, v in big.variants.items()} == {
        "display": (1600, 533), "card": (800, 267), "thumb": (480, 160)}
    assert (big.width, big.height) == (3000, 1000)

    small = process(samples.encode(samples.picture((300, 200)), "PNG"))
    assert {(v.width, v.height) for v in small.variants.values()} == {(300, 200)}

    sliver = process(samples.encode(Image.new("RGB", (6000, 2), "green"), "PNG"))
    assert sliver.variants["thumb"].height == 1


@pytest.mark.parametrize("complete", [True, False], ids=["valid-49KB", "header-2KB"])
def test_png_bomb_is_refused_from_its_header_without_decoding(complete: bool) -> None:
    bomb = samples.png_bomb(complete)
    assert len(bomb) < 60_000
    allocations_before = Image.core.get_stats()["new_count"]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        reason = refusal(bomb)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert reason is Refusal.too_many_pixels
    assert elapsed < 1.0
    assert peak < 50 * 1024 * 1024
    # Pillow never allocated an image buffer: no pixel was decoded.
    assert Image.core.get_stats()["new_count"] == allocations_before


def test_webp_announcing_a_huge_canvas_is_refused_before_the_decoder_allocates_it() -> None:
    allocations_before = Image.core.get_stats()["new_count"]
    assert refusal(samples.webp_bomb()) is Refusal.too_many_pixels
    assert Image.core.get_stats()["new_count"] == allocations_before


def test_pixel_limit_is_the_configured_one() -> None:
    data = samples.encode(samples.picture((2001, 1000)), "PNG")
    assert refusal(data, max_pixels=2_000_000) is Refusal.too_many_pixels
    assert process(data, max_pixels=2_001_000).width == 2001


@pytest.mark.parametrize("payload", [
    b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x10\x00\x00\x00\x10\x00\x08\x00\x03",
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    b'<?xml version="1.0"?><svg onload=alert(1)>',
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    b"<html><script>alert(document.cookie)</script></html>",
    b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    b"II*\x00\x08\x00\x00\x00",  # TIFF
    b"BM" + bytes(60),  # BMP
], ids=["psd", "svg", "svg-xml", "pdf", "html", "gif", "tiff", "bmp"])
def test_other_formats_are_refused_by_content(payload: bytes) -> None:
    assert refusal(payload) is Refusal.unsupported


def test_real_gif_and_psd_like_images_are_refused_even_when_pillow_could_read_them() -> None:
    assert refusal(samples.encode(samples.picture((40, 40)), "GIF")) is Refusal.unsupported
    assert refusal(samples.encode(samples.picture((40, 40)), "TIFF")) is Refusal.unsupported
    assert refusal(samples.encode(samples.picture((40, 40)), "BMP")) is Refusal.unsupported


@pytest.mark.parametrize("payload", [
    b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>",
    b"\x89PNG\r\n\x1a\n<svg onload=alert(1)>",
    b"RIFF\x20\x00\x00\x00WEBPVP8 <html><body>not a picture</body></html>",
], ids=["jpeg", "png", "webp"])
def test_right_magic_bytes_with_wrong_content_are_refused_as_damaged(payload: bytes) -> None:
    assert refusal(payload) in (Refusal.corrupt, Refusal.unsupported)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_files_are_refused(fmt: str) -> None:
    data = samples.encode(Image.effect_noise((400, 300), 50).convert("RGB"), fmt)
    assert refusal(data[: len(data) * 2 // 3]) is Refusal.corrupt
    assert refusal(data[:40]) is Refusal.corrupt


def test_oversized_and_empty_inputs_are_refused_before_parsing() -> None:
    data = samples.gps_jpeg()
    assert refusal(data, max_bytes=len(data) - 1) is Refusal.too_large
    assert refusal(b"\xff\xd8\xff" + bytes(11 * 1024 * 1024)) is Refusal.too_large
    assert refusal(b"") is Refusal.empty


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_animations_are_refused_and_single_frames_accepted(fmt: str) -> None:
    assert refusal(samples.animated(fmt, frames=3)) is Refusal.animated
    still = process(samples.animated(fmt, frames=1))
    assert still.source_format == fmt


def test_animated_gif_is_refused() -> None:
    assert refusal(samples.animated("GIF", frames=3)) is Refusal.unsupported


def test_multi_picture_jpeg_uses_its_primary_picture() -> None:
    primary, preview = Image.new("RGB", (400, 300), "red"), Image.new("RGB", (160, 120), "blue")
    mpo = samples.encode(primary, "MPO", save_all=True, append_images=[preview])
    assert Image.open(io.BytesIO(mpo)).format == "MPO"

    result = process(mpo)

    assert (result.width, result.height) == (400, 300)
    red = reopen(result.variants["display"].data).convert("RGB").getpixel((200, 150))
    assert isinstance(red, tuple) and red[0] > 200 and red[2] < 60


def test_transparency_is_flattened_onto_white() -> None:
    image = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (100, 0, 200, 100))
    result = process(samples.encode(image, "PNG"))
    out = reopen(result.variants["display"].data)
    assert out.mode == "RGB"
    assert out.getpixel((20, 50)) == pytest.approx((255, 255, 255), abs=3)
    assert out.getpixel((180, 50)) == pytest.approx((0, 128, 0), abs=6)

    palette = Image.new("P", (50, 50), 0)
    palette.putpalette([255, 0, 0] * 256)
    out = reopen(process(samples.encode(palette, "PNG", transparency=0)).variants["thumb"].data)
    assert out.getpixel((25, 25)) == pytest.approx((255, 255, 255), abs=3)

    webp = process(samples.encode(image, "WEBP", lossless=True))
    assert reopen(webp.variants["thumb"].data).getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=3)


def test_unusual_modes_come_out_as_plain_rgb_jpeg() -> None:
    cmyk = samples.encode(Image.new("CMYK", (120, 80), (0, 255, 255, 0)), "JPEG")
    grey16 = samples.encode(Image.new("I;16", (120, 80), 30_000), "PNG")
    grey = samples.encode(Image.new("L", (120, 80), 100), "JPEG")
    for data in (cmyk, grey16, grey):
        out = reopen(process(data).variants["thumb"].data)
        assert (out.format, out.mode) == ("JPEG", "RGB")
    # 16-bit grey is scaled to 8 bits, not clipped to white.
    pixel = reopen(process(grey16).variants["thumb"].data).getpixel((5, 5))
    assert isinstance(pixel, tuple) and 100 < pixel[0] < 135


def test_html_hidden_in_a_png_text_chunk_does_not_survive() -> None:
    data = samples.png_with_text_chunk(b"<html><script>alert(1)</script>")
    assert reopen(data).info.get("Comment", "").startswith("<html>")
    for variant in process(data).variants.values():
        assert b"<script" not in variant.data and b"<html" not in variant.data


def test_sniffing_only_trusts_content() -> None:
    assert images.sniff_format(samples.gps_jpeg()) == "JPEG"
    assert images.sniff_format(samples.encode(samples.picture(), "WEBP")) == "WEBP"
    assert images.sniff_format(b"<svg>.jpg") is None
    assert images.webp_dimensions(samples.encode(samples.picture((123, 45)), "WEBP")) == (123, 45)
    assert images.webp_dimensions(samples.encode(samples.picture((123, 45)), "WEBP", lossless=True)) == (123, 45)
    assert images.webp_dimensions(samples.animated("WEBP", 2)) == (60, 40)


def test_demo_photos_are_seeded_jpegs_the_pipeline_accepts() -> None:
    first = generate_demo_photo(3, "Un potager partagé à Outremeuse")
    assert first == generate_demo_photo(3, "Un potager partagé à Outremeuse")
    assert first != generate_demo_photo(4, "Un potager partagé à Outremeuse")
    image = reopen(first)
    assert (image.format, image.size) == ("JPEG", (1200, 800))
    assert process(first).variants["thumb"].width == 480

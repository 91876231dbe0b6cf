"""Content checks on real small files of each allowed type, and on files that lie about theirs."""

import hashlib

import pytest

from chalicelib.services.upload_content import inspect, rejection
from tests.upload_samples import SAMPLES, WEBP_EXTENDED, WEBP_LOSSLESS, WEBP_LOSSY, gif, jpeg, pdf, png

MAX = 1024 * 1024


@pytest.mark.parametrize(
    ("data", "content_type", "width", "height"),
    [
        (png(3, 2), "image/png", 3, 2),
        (png(640, 480), "image/png", 640, 480),
        (gif(3, 2), "image/gif", 3, 2),
        (gif(300, 200), "image/gif", 300, 200),
        (jpeg(16, 8), "image/jpeg", 16, 8),
        (jpeg(17, 9), "image/jpeg", 17, 9),
        (WEBP_LOSSLESS, "image/webp", 1, 1),
        (WEBP_LOSSY, "image/webp", 5, 3),
        (WEBP_EXTENDED, "image/webp", 4, 2),
        (pdf(), "application/pdf", None, None),
    ],
    ids=["png", "png-640", "gif", "gif-300", "jpeg", "jpeg-odd", "webp-vp8l", "webp-vp8", "webp-vp8x", "pdf"],
)
def test_real_files_are_recognised_with_their_dimensions(
    data: bytes, content_type: str, width: int | None, height: int | None
) -> None:
    # When
    facts = inspect(data)
    # Then
    assert (facts.content_type, facts.width, facts.height) == (content_type, width, height)
    assert facts.size == len(data)
    assert facts.sha256 == hashlib.sha256(data).hexdigest()
    assert rejection(facts, content_type, len(data), MAX) is None


def test_jpeg_dimensions_are_found_after_a_large_metadata_segment() -> None:
    # Given: an APP1 (EXIF-like) segment before the frame header
    original = jpeg(40, 30)
    app1 = b"\xff\xe1" + (2 + 5000).to_bytes(2, "big") + b"\x00" * 5000
    data = original[:2] + app1 + original[2:]
    # When / Then
    assert (inspect(data).width, inspect(data).height) == (40, 30)


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (png(), "image/jpeg", "content is image/png, declared image/jpeg"),
        (pdf(), "image/png", "content is application/pdf, declared image/png"),
        (b"<html><script>alert(1)</script></html>", "image/png", "content is not an allowed type"),
        (b"MZ\x90\x00" + b"\x00" * 60, "application/pdf", "content is not an allowed type"),
        (pdf()[:-20], "application/pdf", "content is not an allowed type"),  # truncated: no %%EOF
        (WEBP_LOSSY[:-8], "image/webp", "content is not an allowed type"),  # RIFF length disagrees
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png", "image header is unreadable"),
        (b"\xff\xd8\xff\xd9", "image/jpeg", "image header is unreadable"),
    ],
    ids=["png-as-jpeg", "pdf-as-png", "html", "exe", "truncated-pdf", "truncated-webp", "png-no-ihdr", "jpeg-no-sof"],
)
def test_liars_and_broken_files_are_rejected_with_a_reason(data: bytes, declared: str, reason: str) -> None:
    # When
    verdict = rejection(inspect(data), declared, len(data), MAX)
    # Then
    assert verdict is not None and verdict.startswith(reason), verdict


def test_a_file_over_the_limit_is_rejected_whatever_it_is() -> None:
    data = png(640, 480)
    assert rejection(inspect(data), "image/png", len(data), len(data) - 1) == (
        f"file is {len(data)} bytes, over the {len(data) - 1}-byte limit"
    )


def test_a_file_whose_size_differs_from_the_declared_size_is_rejected() -> None:
    data = gif()
    assert rejection(inspect(data), "image/gif", len(data) + 1, MAX) == (
        f"file is {len(data)} bytes, declared {len(data) + 1}"
    )


def test_every_allowed_type_has_a_sample_and_a_sniffer() -> None:
    from chalicelib.schemas.uploads import ALLOWED_CONTENT_TYPES
    from chalicelib.services.upload_content import FORMATS

    assert set(SAMPLES) == set(ALLOWED_CONTENT_TYPES) == set(FORMATS)

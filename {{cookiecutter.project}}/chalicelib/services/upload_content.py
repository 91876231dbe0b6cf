"""What a file really is, read from its bytes: type by magic bytes, image size by header parsing.

Header parsing, not an imaging library: the five allowed formats put their dimensions at
documented offsets (PNG IHDR, GIF screen descriptor, JPEG SOFn marker, WebP VP8/VP8L/VP8X
chunk), about sixty lines here, where Pillow would add ~10 MB of native wheels per
architecture to every Lambda zip and decode untrusted input in C we do not need.
"""

import hashlib
import struct
from collections.abc import Callable

from chalicelib.schemas.uploads import ContentFacts

Dimensions = tuple[int, int] | None

# JPEG start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field (TEM, RSTn) that may sit between segments.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def _png_size(data: bytes) -> Dimensions:
    # Signature (8), then the IHDR chunk: length (4), "IHDR", width (4), height (4), big-endian.
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _gif_size(data: bytes) -> Dimensions:
    # Logical screen descriptor right after the 6-byte signature, little-endian.
    if len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return width, height


def _jpeg_size(data: bytes) -> Dimensions:
    # Walk the marker segments after SOI until a start-of-frame: P (1), height (2), width (2).
    offset = 2
    while offset + 4 <= len(data):
        if data[offset] != 0xFF:
            return None
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte before a marker
            offset += 1
            continue
        if marker in _JPEG_STANDALONE:
            offset += 2
            continue
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if marker in _JPEG_SOF:
            if offset + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
            return width, height
        if marker in (0xD9, 0xDA) or length < 2:  # end of image / scan data before any frame
            return None
        offset += 2 + length
    return None


def _webp_size(data: bytes) -> Dimensions:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        # Lossy: key frame start code, then 14-bit width and height.
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        # Lossless: signature byte, then 14-bit width-1 and height-1 packed little-endian.
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        # Extended: 24-bit canvas width-1 and height-1.
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def _is_webp(data: bytes) -> bool:
    # RIFF container whose declared length matches the file: a truncated or padded file is not a WebP.
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP" and int.from_bytes(data[4:8], "little") + 8 == len(data)


def _is_pdf(data: bytes) -> bool:
    # The header, and an end-of-file marker near the end (a truncated PDF has none).
    return data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]


Sniffer = tuple[Callable[[bytes], bool], Callable[[bytes], Dimensions] | None]
FORMATS: dict[str, Sniffer] = {
    "image/png": (lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"), _png_size),
    "image/gif": (lambda data: data[:6] in (b"GIF87a", b"GIF89a"), _gif_size),
    "image/jpeg": (lambda data: data.startswith(b"\xff\xd8\xff"), _jpeg_size),
    "image/webp": (_is_webp, _webp_size),
    "application/pdf": (_is_pdf, None),
}


def inspect(data: bytes) -> ContentFacts:
    """Describe a file by its bytes: size, sha256, the allowed type it is (if any) and image dimensions."""
    facts = ContentFacts(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    for content_type, (matches, dimensions) in FORMATS.items():
        if matches(data):
            size = dimensions(data) if dimensions else None
            width, height = size if size else (None, None)
            return facts.model_copy(update={"content_type": content_type, "width": width, "height": height})
    return facts


def rejection(facts: ContentFacts, declared_type: str, declared_size: int, max_bytes: int) -> str | None:
    """Why a file must be rejected given what was declared, or None if it is what it claims."""
    if facts.size > max_bytes:
        return f"file is {facts.size} bytes, over the {max_bytes}-byte limit"
    if facts.content_type is None:
        return f"content is not an allowed type (declared {declared_type})"
    if facts.content_type != declared_type:
        return f"content is {facts.content_type}, declared {declared_type}"
    if facts.size != declared_size:
        return f"file is {facts.size} bytes, declared {declared_size}"
    if FORMATS[facts.content_type][1] is not None and not (facts.width and facts.height):
        return "image header is unreadable or has no dimensions"
    return None

"""Real, minimal files of each allowed upload type (and liars made from them), and the form that sends one."""

import base64
import struct
import urllib.error
import urllib.request
import uuid
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 3, height: int = 2) -> bytes:
    """An 8-bit greyscale PNG: signature, IHDR, one zlib IDAT of filter-0 rows, IEND."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes(x % 256 for x in range(width)) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def gif(width: int = 3, height: int = 2) -> bytes:
    """A GIF89a with a two-colour table; LZW data clears before every pixel so codes stay 3 bits."""
    codes = [4, 0] * (width * height) + [5]  # clear, index 0 ... end of information
    bits = "".join(format(code, "03b")[::-1] for code in codes)  # LSB-first packing
    bits += "0" * (-len(bits) % 8)
    data = bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))
    blocks = b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255))
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", width, height, 0x80, 0, 0)
        + b"\xff\xff\xff\x00\x00\x00"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, width, height, 0)
        + b"\x02"
        + blocks
        + b"\x00\x3b"
    )


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg(width: int = 16, height: int = 8) -> bytes:
    """A baseline greyscale JFIF: flat grey 8x8 blocks, each coded as DC diff 0 + end of block."""
    huffman_one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1 for symbol 0
    blocks = -(-width // 8) * -(-height // 8)
    bits = "00" * blocks
    bits += "1" * (-len(bits) % 8)  # pad with ones, as the standard says
    scan = bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))
    return (
        b"\xff\xd8"
        + _jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + _jpeg_segment(0xDB, b"\x00" + b"\x01" * 64)
        + _jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
        + _jpeg_segment(0xC4, b"\x00" + huffman_one_code + b"\x10" + huffman_one_code)
        + _jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + scan
        + b"\xff\xd9"
    )


# WebP needs an entropy coder to build by hand, so these are encoder output: a 1x1 lossless
# (VP8L) image, the probe browsers' feature detection uses; a 5x3 lossy (VP8) one; and a 4x2
# lossy one with alpha, which the encoder wraps in the extended (VP8X) container.
WEBP_LOSSLESS = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
WEBP_LOSSY = base64.b64decode(
    "UklGRjgAAABXRUJQVlA4ICwAAACQAQCdASoFAAMAAsBMJaACdLoAA5gA/u+ax9CjZRKpf/SbP+Js/4mz45gAAA=="
)
WEBP_EXTENDED = base64.b64decode(
    "UklGRmAAAABXRUJQVlA4WAoAAAAQAAAAAwAAAQAAQUxQSAkAAAAAgICAgICAgIAAVlA4IDAAAADQAQCdASoEAAIAAUAmJaACdLoB+AADsAD+9h"
    "Nf/izkYjs83/4E78Cd+BO/8AAAAAA="
)


def webp() -> bytes:
    """A 1x1 lossless WebP."""
    return WEBP_LOSSLESS


def pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


SAMPLES = {
    "image/png": png,
    "image/jpeg": jpeg,
    "image/gif": gif,
    "image/webp": webp,
    "application/pdf": pdf,
}


def post_form(url: str, fields: dict[str, str], filename: str, data: bytes, content_type: str) -> int:
    """POST a multipart/form-data upload as a browser form does (the file field last, as S3 requires)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url, data=b"".join(parts), method="POST", headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)

"""Draw icon.png, the extension's icon (512x512 RGBA), with the standard library only.

A focus reticle (a ring with a centre dot) on a rounded plum square, with three member dots on the
ring: a team in focus. Every pixel is computed from its distance to the shapes, so the edges are
anti-aliased without a drawing library. Run from the repository root: python3 scripts/make_icon.py
(the same script always draws the same bytes).
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

SIZE = 512
TARGET = Path(__file__).resolve().parents[1] / "icon.png"

Colour = tuple[float, float, float]
PLUM: Colour = (44, 19, 56)
PLUM_LIGHT: Colour = (84, 38, 104)
PINK: Colour = (229, 124, 216)
CREAM: Colour = (255, 236, 248)


def coverage(distance: float) -> float:
    """How much of a pixel a shape covers, from the signed distance of its centre to the edge."""
    return min(1.0, max(0.0, 0.5 - distance))


def rounded_square(x: float, y: float, half: float, radius: float) -> float:
    qx, qy = abs(x) - half + radius, abs(y) - half + radius
    outside = math.hypot(max(qx, 0.0), max(qy, 0.0))
    return outside + min(max(qx, qy), 0.0) - radius


def blend(under: Colour, over: Colour, alpha: float) -> Colour:
    return (
        under[0] + (over[0] - under[0]) * alpha,
        under[1] + (over[1] - under[1]) * alpha,
        under[2] + (over[2] - under[2]) * alpha,
    )


def pixel(px: int, py: int) -> tuple[int, int, int, int]:
    x, y = px + 0.5 - SIZE / 2, py + 0.5 - SIZE / 2
    r = math.hypot(x, y)
    shade = (y + SIZE / 2) / SIZE  # a gentle top-to-bottom gradient
    colour = blend(PLUM_LIGHT, PLUM, shade)
    ring = abs(r - 150) - 22  # a ring 44 px wide, radius 150
    colour = blend(colour, PINK, coverage(ring))
    colour = blend(colour, CREAM, coverage(r - 58))  # the centre dot
    for angle in (-90.0, 30.0, 150.0):  # three members on the ring
        cx, cy = 150 * math.cos(math.radians(angle)), 150 * math.sin(math.radians(angle))
        member = math.hypot(x - cx, y - cy)
        colour = blend(colour, PLUM, coverage(member - 40))
        colour = blend(colour, CREAM, coverage(member - 30))
    alpha = coverage(rounded_square(x, y, SIZE / 2 - 8, 104))
    red, green, blue = (round(c) for c in colour)
    return red, green, blue, round(255 * alpha)


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, no interlace
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def draw() -> bytes:
    rows = [bytes(channel for px in range(SIZE) for channel in pixel(px, py)) for py in range(SIZE)]
    return png(SIZE, SIZE, rows)


if __name__ == "__main__":
    TARGET.write_bytes(draw())
    print(f"{TARGET.name}: {SIZE}x{SIZE}, {TARGET.stat().st_size} bytes")

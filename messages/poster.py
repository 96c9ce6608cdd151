"""Share posters (宣傳物料): a PNG for one open group buy with the member's own referral QR.

The words come rendered from the member's locale (`poster.j2`, one line each: community,
product, price, deadline, the call to scan); this module only draws them, in the project's
CJK font (messages/fonts.py), so Chinese never comes out as boxes. The QR code is segno's
matrix drawn module by module, so a test can read the modules back from the pixels.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from messages.fonts import cjk_font_path

SIZE = (1080, 1440)
QR_SIDE = 520  # the QR code, quiet zone included, fits in a square this wide
QUIET = 4  # modules of white around the code (the standard's quiet zone)
BAND = (200, 40, 50)  # the header band
INK, PRICE, PAPER = (30, 30, 30), (200, 40, 50), (255, 255, 255)
MARGIN = 60


@dataclass(frozen=True, slots=True)
class Box:
    """Where the QR code's modules are: top-left corner, module size in pixels, modules."""

    left: int
    top: int
    module: int
    count: int


@dataclass(frozen=True, slots=True)
class Lines:
    community: str
    title: str
    price: str
    deadline: str
    scan: str

    @classmethod
    def from_text(cls, text: str) -> Lines:
        """The five lines of the rendered `poster` template (missing ones stay blank)."""
        parts = [line.strip() for line in text.splitlines() if line.strip()]
        parts += [""] * (5 - len(parts))
        return cls(*parts[:5])


def qr_matrix(link: str) -> list[list[bool]]:
    """The modules of the link's QR code (True: dark), as segno makes it."""
    code = segno.make(link, error="m", micro=False)
    return [[bool(v) for v in row] for row in code.matrix]


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(cjk_font_path()), size)


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont,
             width: int, most: int) -> list[str]:
    """`text` in lines no wider than `width` (CJK breaks anywhere), at most `most` lines."""
    lines, current = [], ""
    for char in text:
        if draw.textlength(current + char, font=font) > width and current:
            lines.append(current)
            current = char.lstrip()
        else:
            current += char
    if current:
        lines.append(current)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def draw_poster(lines: Lines, link: str) -> tuple[Image.Image, Box]:
    """The poster and where its QR code is."""
    image = Image.new("RGB", SIZE, PAPER)
    draw = ImageDraw.Draw(image)
    width = SIZE[0] - 2 * MARGIN
    draw.rectangle((0, 0, SIZE[0], 150), fill=BAND)
    header = _wrapped(draw, lines.community, _font(56), width, 1)
    draw.text((SIZE[0] // 2, 75), header[0] if header else "", font=_font(56), fill=PAPER,
              anchor="mm")
    y = 200
    for line in _wrapped(draw, lines.title, _font(84), width, 2):
        draw.text((SIZE[0] // 2, y), line, font=_font(84), fill=INK, anchor="mt")
        y += 104
    draw.text((SIZE[0] // 2, y + 10), lines.price, font=_font(96), fill=PRICE, anchor="mt")
    y += 140
    for line in _wrapped(draw, lines.deadline, _font(48), width, 2):
        draw.text((SIZE[0] // 2, y), line, font=_font(48), fill=INK, anchor="mt")
        y += 62
    box = _draw_qr(draw, qr_matrix(link), top=max(y + 30, SIZE[1] - QR_SIDE - 140))
    draw.text((SIZE[0] // 2, SIZE[1] - 70), lines.scan, font=_font(44), fill=INK, anchor="mm")
    return image, box


def _draw_qr(draw: ImageDraw.ImageDraw, matrix: list[list[bool]], top: int) -> Box:
    count = len(matrix)
    module = QR_SIDE // (count + 2 * QUIET)
    side = module * (count + 2 * QUIET)
    left = (SIZE[0] - side) // 2
    draw.rectangle((left, top, left + side - 1, top + side - 1), fill=PAPER)
    ox, oy = left + QUIET * module, top + QUIET * module
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x, y = ox + c * module, oy + r * module
                draw.rectangle((x, y, x + module - 1, y + module - 1), fill=(0, 0, 0))
    return Box(ox, oy, module, count)


def poster_png(lines: Lines, link: str, folder: Path) -> Path:
    """Write (once per content) the poster PNG under `folder`; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(repr((lines, link)).encode()).hexdigest()[:16]
    path = folder / f"poster-{digest}.png"
    if not path.exists():
        image, _ = draw_poster(lines, link)
        tmp = path.with_suffix(".tmp")
        image.save(tmp, format="PNG")
        tmp.replace(path)
    return path

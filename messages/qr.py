"""QR code images for referral links (segno: pure Python, writes PNG without Pillow)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import segno


def qr_png(data: str, folder: Path) -> Path:
    """Write (once) a PNG of `data` under `folder`, named by its content; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(data.encode()).hexdigest()[:16]
    path = folder / f"qr-{name}.png"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        segno.make(data, error="m").save(str(tmp), kind="png", scale=8, border=2)
        tmp.replace(path)
    return path

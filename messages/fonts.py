"""The one CJK font every picture uses (charts, posters).

Noto Sans CJK SC, shipped inside the `mplfonts` wheel, so `pip install -e .` brings it and
no system font package is needed. The SC cut still carries the Traditional characters.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

FONT_FILE = "NotoSansCJKsc-Regular.otf"


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """The font file's path; raises FileNotFoundError when the package is missing."""
    path = Path(str(resources.files("mplfonts") / "fonts" / FONT_FILE))
    if not path.is_file():
        raise FileNotFoundError(f"{FONT_FILE} not found: reinstall the project (pip install -e .)")
    return path

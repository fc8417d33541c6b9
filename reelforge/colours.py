"""Hex colours, read in one place: ``"#rgb"``, ``"#rrggbb"`` or ``"#rrggbbaa"`` (alpha last,
ff = opaque) to ``(red, green, blue, alpha)`` in 0-255."""

from __future__ import annotations

from reelforge.errors import SpecError

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def parse_hex(value: str, what: str = "colour") -> tuple[int, int, int, int]:
    """``(red, green, blue, alpha)`` of a hex colour; a :class:`SpecError` naming ``what``
    ("caption colour", "palette colour"...) for anything else."""
    text = value.strip().removeprefix("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    if not value.strip().startswith("#") or len(text) not in (6, 8) or set(text) - _HEX_DIGITS:
        raise SpecError(
            f"{what} {value!r} is not '#rrggbb' or '#rrggbbaa'",
            hint="write colours like '#ffd400' or '#00000099' (last pair = opacity)",
        )
    alpha = int(text[6:8], 16) if len(text) == 8 else 255
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), alpha

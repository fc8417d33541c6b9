"""The built-in cast: every character draws, the drawn mouth opens with the viseme, blinks
close the eyes, and each voice of the catalogue finds a matching character."""

from __future__ import annotations

import numpy as np
import pytest

from reelforge.errors import SpecError
from reelforge.talking import cast
from reelforge.talking.visemes import VISEMES

SIZE = (200, 250)


def _draw(name: str, pose: cast.Pose) -> np.ndarray:
    frame = np.full((SIZE[1], SIZE[0], 3), 230, np.uint8)
    cast.draw_character(frame, cast.character(name), pose, (SIZE[0] / 2, SIZE[1] * 0.42), 84)
    return frame


def _cavity(frame: np.ndarray) -> int:
    mouth = frame[int(SIZE[1] * 0.42 + 25) : int(SIZE[1] * 0.42 + 50), 84:116]
    # the cavity's own colour (drawn, not encoded: exact but for anti-aliased edges)
    distance = np.abs(mouth.astype(int) - np.array(cast.CAVITY)).sum(axis=2)
    return int((distance < 24).sum())


@pytest.mark.parametrize("name", list(cast.CAST))
def test_every_character_draws_and_talks(name: str) -> None:
    rest = _draw(name, cast.Pose())
    wide = _draw(name, cast.Pose(mouth=VISEMES["AI"]))
    assert float(rest.std()) > 20  # a drawn figure, not an empty frame
    closed, opened = _cavity(rest), _cavity(wide)
    assert opened > closed + 40, (closed, opened)
    pucker = _cavity(_draw(name, cast.Pose(mouth=VISEMES["U"])))
    assert closed < pucker < opened
    blink = _draw(name, cast.Pose(blink=1.0))
    eyes = slice(int(SIZE[1] * 0.42 - 15), int(SIZE[1] * 0.42 + 10))
    whites = lambda f: int((f[eyes].min(axis=2) > 240).sum())  # noqa: E731
    assert whites(blink) < whites(rest) / 3


def test_cast_is_varied_and_matches_voices() -> None:
    people = list(cast.CAST.values())
    assert {c.age for c in people} >= {"child", "young", "adult", "senior"}
    assert {c.gender for c in people} == {"female", "male"}
    assert len({c.skin for c in people}) >= 5 and len({c.hair_style for c in people}) >= 7
    assert cast.for_voice("fr-senior-male").name == "walter"
    assert cast.for_voice("en-child-female").age == "child"
    first = cast.for_voice("en-adult-female")
    assert cast.for_voice("en-adult-female", (first.name,)).name != first.name
    with pytest.raises(SpecError, match="unknown character"):
        cast.character("zelda")

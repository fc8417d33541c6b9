"""Illustrated scenes: subjects matched from the narration in several languages, drawn as
animated emoji sprites over the scene's procedural backdrop, and cheap per frame."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from reelforge.engines.base import VisualRequest
from reelforge.engines.visuals import illustrated
from reelforge.engines.visuals.illustrated import IllustratedVisuals, match_subjects
from reelforge.render.compositor import Compositor
from reelforge.timeline import Clip, Layer, SpriteMotion, Timeline

pytestmark = pytest.mark.skipif(
    not illustrated.EMOJI_FONT.is_file(),
    reason="Debian fonts-noto-color-emoji is not installed (scripts/setup.sh installs it)",
)
PALETTE = ("#1c1917", "#7c2d12", "#f59e0b")


def _emoji(text: str, language: str, title: str = "") -> list[str]:
    return [m.emoji for m in match_subjects(text, language, title)]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "Grilled sardines from the port, and chorba to start.", {"🔥", "🐟", "🍲"}),
        ("fr", "Chaque vendredi, notre couscous est roulé à la main.", {"🍲"}),
        ("fr", "Des sardines grillées au charbon.", {"🐟", "🔥"}),
        ("ar", "مثالي للكسكسي والسلطات والخبز الساخن في الصباح.", {"🍲", "🥗", "🍞"}),
        ("hi", "बगीचे में रंग-बिरंगी तितलियाँ उड़ रही थीं।", {"🦋"}),
        ("ja", "自家焙煎のコーヒーと季節の和菓子。", {"☕", "🍡"}),
        ("es", "Las mariposas vuelan sobre el jardín.", {"🦋", "🌼"}),
    ],
)
def test_subjects_match_in_every_language(language: str, text: str, expected: set[str]) -> None:
    assert expected <= set(_emoji(text, language))


def test_inflections_match_but_lookalike_words_do_not() -> None:
    assert "🐟" in _emoji("two sardines", "en")
    assert "⭐" not in _emoji("chorba to start", "en")  # star + t is not an inflection
    assert _emoji("", "en") == []


def test_cldr_names_cover_words_the_table_lacks() -> None:
    if not (illustrated.CLDR_DIR / "annotations" / "fr.xml").is_file():
        pytest.skip("Debian unicode-cldr-core is not installed")
    (match,) = [m for m in match_subjects("Une pieuvre dans le port.", "fr") if m.emoji == "🐙"]
    assert match.source == "cldr" and "CLDR" in match.reason()


def test_the_title_leads_and_minor_subjects_follow() -> None:
    matches = match_subjects("Every Friday, with lamb.", "en", title="Couscous")
    assert matches[0].emoji == "🍲"
    assert matches[-1].emoji == "📅"  # a day of the week never leads


def test_a_hot_dish_is_drawn_with_steam_and_sprites_that_move(tmp_path: Path) -> None:
    request = VisualRequest(
        width=640, height=360, duration_ms=3000, palette=PALETTE, seed=3,
        prompt="Our couscous with seven vegetables.", language="en", title="Couscous",
    )  # fmt: skip
    result = IllustratedVisuals().generate(request, tmp_path)
    assert result.over_backdrop and "🍲" in result.extras["matched"]
    assert "couscous" in result.extras["why"]
    assert all(layer.box is not None for layer in result.layers)
    animations = {layer.animation for layer in result.layers}
    assert "rise" in animations  # the steam
    assert animations & {"float", "bounce", "orbit", "pulse"}
    for layer in result.layers:
        rgba = cv2.imread(str(layer.path), cv2.IMREAD_UNCHANGED)
        assert rgba.shape[2] == 4 and rgba[..., 3].max() > 100 and rgba[..., 3].min() == 0


def test_nothing_matched_is_an_empty_result_that_says_so(tmp_path: Path) -> None:
    request = VisualRequest(width=320, height=180, duration_ms=2000, prompt="Lorem ipsum.")
    result = IllustratedVisuals().generate(request, tmp_path)
    assert result.layers == () and result.over_backdrop
    assert result.extras["matched"] == "" and result.extras["why"]


def _timeline(tmp_path: Path, width: int, height: int, sprites: bool) -> Timeline:
    tmp_path.mkdir(parents=True, exist_ok=True)
    backdrop = tmp_path / "bg.png"
    gradient = np.linspace(40, 200, width, dtype=np.uint8)[None, :, None]
    cv2.imwrite(str(backdrop), np.broadcast_to(gradient, (height, width, 3)).copy())
    layers = [Layer(str(backdrop))]
    if sprites:
        request = VisualRequest(
            width=width, height=height, duration_ms=2000, palette=PALETTE, seed=1,
            prompt="Grilled sardines on the charcoal fire, with harissa and bread.",
            language="en",
        )  # fmt: skip
        result = IllustratedVisuals().generate(request, tmp_path / "art")
        for layer in result.layers:
            assert layer.box is not None
            x, y, w = layer.box
            motion = SpriteMotion(
                x, y, w, layer.animation, layer.entrance, layer.delay, layer.phase
            )
            layers.append(Layer(str(layer.path), sprite=motion))
    clip = Clip(start=0, frames=60, layers=tuple(layers))
    return Timeline(width, height, 30, 60, (clip,))


def test_sprites_enter_then_move_over_the_picture(tmp_path: Path) -> None:
    timeline = _timeline(tmp_path, 320, 180, sprites=True)
    plain = Compositor(_timeline(tmp_path / "plain", 320, 180, sprites=False))
    compositor = Compositor(timeline)
    first, later, last = compositor.frame(0), compositor.frame(40), compositor.frame(59)
    base = plain.frame(40)
    # nothing has entered at frame 0 (every entrance has a delay); later the subjects show
    assert np.abs(first.astype(int) - base.astype(int)).mean() < 1.0
    assert np.abs(later.astype(int) - base.astype(int)).mean() > 3.0
    assert np.abs(later.astype(int) - last.astype(int)).mean() > 0.2  # and keep moving
    round_trip = Timeline.from_json(timeline.to_json())
    assert round_trip.clips[0].layers[1].sprite == timeline.clips[0].layers[1].sprite


def test_sprites_cost_little_per_frame_at_1080p(tmp_path: Path) -> None:
    """The subjects add small blends on their boxes: measured against the same clip without."""
    timings = {}
    for sprites in (False, True):
        timeline = _timeline(tmp_path / str(sprites), 1920, 1080, sprites)
        compositor = Compositor(timeline)
        compositor.frame_i420(30)  # load and scale once
        started = time.perf_counter()
        for index in range(31, 45):
            compositor.frame_i420(index)
        timings[sprites] = (time.perf_counter() - started) / 14
        compositor.close()
    extra_ms = (timings[True] - timings[False]) * 1000
    print(f"1080p frame: {timings[False] * 1000:.1f} ms plain, +{extra_ms:.1f} ms with subjects")
    assert extra_ms < 40  # a shared, loaded 2-core machine: generous, still a frame budget

"""Illustrated scenes: subjects matched from the narration in several languages, drawn as
animated emoji sprites over the scene's procedural backdrop, and cheap per frame."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from fakes import fake_voice  # noqa: F401  (fixture)

import reelforge
from reelforge.engines.base import VisualRequest
from reelforge.engines.visuals import illustrated
from reelforge.engines.visuals.illustrated import IllustratedVisuals, match_subjects
from reelforge.plan import plan
from reelforge.plan.layout import Canvas, caption_box
from reelforge.render.compositor import ENTRANCE_S, Compositor, _SpriteRenderer, _TextRenderer
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


def test_a_word_in_its_verb_sense_does_not_draw_the_thing() -> None:
    """Real-estate scene 5 says "book yours": a reservation, not books."""
    text = "Visits by appointment this week. Call Atlas Immobilier to book yours."
    assert "📚" not in _emoji(text, "en", title="Visit this week")
    assert "📚" in _emoji("She read the book by the window.", "en")  # after an article: a book
    assert "✈️" not in _emoji("Butterflies fly over the garden.", "en")
    assert "✈️" in _emoji("We fly to Paris on a short flight.", "en")  # flight says it
    assert "📚" not in _emoji("Il livre les colis le matin.", "fr")
    assert "📚" in _emoji("Un livre pour les enfants.", "fr")


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
    """The subjects blend into the I420 frame on their boxes: measured in CPU time (the machine
    is shared and loaded) against the same clip without them, in one thread."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    timings = {}
    try:
        for sprites in (False, True):
            timeline = _timeline(tmp_path / str(sprites), 1920, 1080, sprites)
            compositor = Compositor(timeline)
            compositor.frame_i420(30)  # load and scale once
            started = time.process_time()
            for index in range(31, 59):
                compositor.frame_i420(index)
            timings[sprites] = (time.process_time() - started) / 28
            compositor.close()
    finally:
        cv2.setNumThreads(threads)
    extra_ms = (timings[True] - timings[False]) * 1000
    print(f"1080p frame: {timings[False] * 1000:.1f} ms CPU plain, +{extra_ms:.1f} ms subjects")
    assert (
        extra_ms < 8
    )  # was ~+3.5 ms per frame before sprites blended in I420 (benchmarks/sprites.py)


# --------------------------------------------------------------------------- layout around text

EXAMPLES = sorted(
    p
    for p in (Path(__file__).parent.parent / "examples").iterdir()
    if p.suffix in (".md", ".yaml") and p.stem != "README"
)


def _boxes_over_time(
    renderer: _SpriteRenderer | _TextRenderer, first: int, last: int
) -> list[tuple[int, int, int, int]]:
    boxes = [renderer.box(index) for index in range(first, last, 2)]
    return [box for box in boxes if box is not None]


@pytest.mark.usefixtures("fake_voice")
@pytest.mark.parametrize("fmt", ["16:9", "9:16", "1:1"])
def test_subjects_keep_clear_of_titles_and_captions(fmt: str, tmp_path: Path) -> None:
    """Every example in every format: no subject, while it moves, touches a title (as the
    compositor draws it) or the box the burned captions may cover."""
    checked = 0
    for path in EXAMPLES:
        board = reelforge.load_spec(path)
        board = board.model_copy(
            update={
                "voice": "fake-adult-male",
                "format": fmt,
                "resolution": 360,
                "music": board.music.model_copy(update={"enabled": False}),
            }
        )
        try:
            planned = plan(board, tmp_path / path.stem, cache_dir=tmp_path / "cache")
        except reelforge.ReelforgeError as exc:  # a picture the example does not ship
            assert "not exist" in exc.message, exc.message
            continue
        timeline = planned.timeline
        w, h, fps = timeline.width, timeline.height, timeline.fps
        canvas = Canvas(w, h, fps, tmp_path)
        x0, y0, x1, y1 = caption_box(timeline.caption_style, canvas, timeline.language)
        caption = (x0 * w, y0 * h, x1 * w, y1 * h)
        for clip in timeline.clips:
            titles = [
                box
                for text in clip.texts
                for box in _boxes_over_time(_TextRenderer(text, w, h, fps), 0, clip.frames)
            ]
            for layer in clip.layers:
                if layer.sprite is None:
                    continue
                sprite = _SpriteRenderer(layer, w, h, fps, None)
                settled = math.ceil((layer.sprite.delay + ENTRANCE_S) * fps) + 1
                for box in _boxes_over_time(sprite, settled, settled + 7 * fps):
                    checked += 1
                    where = f"{path.stem} {fmt} scene {clip.scene + 1} {Path(layer.path).name}"
                    assert not _overlap(box, caption), f"{where}: {box} over captions {caption}"
                    for title in titles:
                        assert not _overlap(box, title), f"{where}: {box} over title {title}"
    assert checked > 1000


def _overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_the_mono_grade_greys_the_subjects_too(tmp_path: Path) -> None:
    timeline = _timeline(tmp_path, 320, 180, sprites=True)
    colour = Compositor(timeline).frame(50).astype(int)
    grey = Compositor(replace(timeline, grade="mono")).frame(50).astype(int)
    # the subjects are in colour without the grade, and as grey as the backdrop with it
    assert np.abs(colour[..., 2] - colour[..., 1]).max() > 60
    assert np.abs(grey[..., 2] - grey[..., 1]).max() <= 6
    assert np.abs(grey[..., 0] - grey[..., 1]).max() <= 6


def test_subjects_blended_in_i420_look_as_blended_in_colour(tmp_path: Path) -> None:
    """The I420 blend (no colour conversion of the frame) matches a BGR blend of the sprite."""
    timeline = _timeline(tmp_path, 320, 180, sprites=True)
    layer = next(layer for layer in timeline.clips[0].layers if layer.sprite is not None)
    sprite = _SpriteRenderer(layer, 320, 180, 30, None)
    base = np.full((180, 320, 3), (40, 120, 200), np.uint8)
    expected = base.copy()
    sprite.draw(expected, 50)
    i420 = cv2.cvtColor(base, cv2.COLOR_BGR2YUV_I420)
    sprite.draw_i420(i420, 320, 180, 50)
    got = cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420).astype(int)
    reference = cv2.cvtColor(cv2.cvtColor(expected, cv2.COLOR_BGR2YUV_I420), cv2.COLOR_YUV2BGR_I420)
    assert np.abs(expected.astype(int) - base).mean() > 2  # the sprite shows
    assert np.abs(got - reference.astype(int)).mean() < 1.5


def test_the_lead_stays_sharp_at_1080p() -> None:
    """No emoji is scaled past SHARPEST (its medallion keeps the size), and an upscaled emoji's
    outline is steep: alpha rises from clear to solid within a few pixels."""
    matches = match_subjects("Our couscous with lamb and vegetables.", "en", title="Couscous")
    for width, height in ((1080, 1920), (1920, 1080), (1080, 1080)):
        rng = np.random.default_rng(7)
        _, pieces = illustrated.compose(matches, PALETTE, width, height, rng)
        emoji = [p for p in pieces if p.kind == "emoji"]
        medallions = [p for p in pieces if p.kind == "medallion"]
        assert emoji and max(p.px for p in emoji) <= illustrated.SHARPEST
        assert max(p.px for p in medallions) > illustrated.SHARPEST  # the lead still stands out
    # the outline's width, clear (alpha < 30) to solid (> 225), on rows across the middle:
    # ~2.4 px on average for these four (3.75 px before the outline was steepened)
    widths = [
        _edge_width(illustrated._sprite(e, illustrated.SHARPEST, (0, 0, 0))) for e in "🍲🦁☕🐟"
    ]
    assert float(np.mean(widths)) <= 3.0, widths


def _edge_width(rgba: np.ndarray) -> float:
    alpha = rgba[..., 3].astype(int)
    found = []
    for row in alpha[alpha.shape[0] // 4 : alpha.shape[0] * 3 // 4 : 4]:
        if not (row > 225).any():
            continue
        solid = int(np.argmax(row > 225))
        clear = np.nonzero(row[:solid] < 30)[0]
        if len(clear):
            found.append(solid - int(clear[-1]))
    return float(np.median(found))

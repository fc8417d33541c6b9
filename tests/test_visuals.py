"""Procedural visuals, fonts and text sprites, at preview sizes (fast)."""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFont

from reelforge.engines.base import VisualEngine, VisualRequest
from reelforge.engines.visuals.procedural import ProceduralVisuals, scene_seed
from reelforge.errors import MediaError, SpecError
from reelforge.text.fonts import face_index, family_for, font_file
from reelforge.text.sprites import parse_color, render_image_sprite, render_text
from reelforge.timeline import MOTION_PRESETS

GREEN = ("#052e16", "#15803d", "#86efac")
PURPLE = ("#3b0764", "#9333ea", "#e9d5ff")
STYLES = ProceduralVisuals().styles()


def _load(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        img.load()
        assert img.mode in ("RGB", "RGBA"), img.mode
        return np.asarray(img.convert("RGBA"))


def _generate(tmp_path: Path, **fields: object) -> list[np.ndarray]:
    request = VisualRequest(**{"width": 320, "height": 180, "duration_ms": 1000, **fields})
    result = ProceduralVisuals().generate(request, tmp_path)
    return [_load(layer.path) for layer in result.layers]


# ----------------------------------------------------------------------------- visuals


def test_engine_contract() -> None:
    engine = ProceduralVisuals()
    assert isinstance(engine, VisualEngine)
    info = engine.info()
    assert (info.name, info.kind, info.available) == ("procedural", "visuals", True)
    assert {
        "gradient",
        "bokeh",
        "waves",
        "geometric",
        "aurora",
        "confetti",
        "grid",
        "sunset",
    } <= set(STYLES)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("width", "height"), [(320, 180), (180, 320)])
def test_style_layers(tmp_path: Path, style: str, width: int, height: int) -> None:
    request = VisualRequest(width, height, 1000, style=style, seed=3)
    result = ProceduralVisuals().generate(request, tmp_path)
    assert 1 <= len(result.layers) <= 3
    assert result.engine == "procedural" and result.video is None
    for i, layer in enumerate(result.layers):
        assert layer.path.is_file() and layer.path.suffix == ".png"
        assert layer.motion in MOTION_PRESETS
        with Image.open(layer.path) as img:
            assert img.size == (width, height)
            mode = img.mode
        pixels = _load(layer.path)
        if i == 0:
            assert mode in ("RGB", "RGBA")
            assert (pixels[..., 3] == 255).all()
            assert layer.opacity == 1.0
            assert pixels[..., :3].std() > 1.0  # a gradient, not a flat fill
        else:
            assert mode == "RGBA"
            assert 0.0 < layer.opacity < 1.0
            assert pixels[..., 3].max() > 0, "an overlay draws something"
            assert pixels[..., 3].min() < 255, "an overlay lets the background through"
    # Parallax: some overlay moves differently from the background.
    if len(result.layers) > 1:
        assert any(layer.motion != result.layers[0].motion for layer in result.layers[1:])


@pytest.mark.parametrize("style", STYLES)
def test_deterministic_per_seed(tmp_path: Path, style: str) -> None:
    first = _generate(tmp_path / "a", style=style, seed=5)
    again = _generate(tmp_path / "b", style=style, seed=5)
    other = _generate(tmp_path / "c", style=style, seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0]) or any(
        not np.array_equal(x, y) for x, y in zip(first[1:], other[1:], strict=False)
    )


def test_prompt_varies_the_scene(tmp_path: Path) -> None:
    base = VisualRequest(320, 180, 1000, style="bokeh", seed=1)
    first = VisualRequest(320, 180, 1000, style="bokeh", seed=1, prompt="a quiet harbour")
    second = VisualRequest(320, 180, 1000, style="bokeh", seed=1, prompt="a busy market")
    assert len({scene_seed(base), scene_seed(first), scene_seed(second)}) == 3
    assert scene_seed(first) == scene_seed(
        VisualRequest(320, 180, 1000, style="bokeh", seed=1, prompt="a quiet harbour")
    )
    a = _generate(tmp_path / "a", style="bokeh", seed=1, prompt="a quiet harbour")
    b = _generate(tmp_path / "b", style="bokeh", seed=1, prompt="a busy market")
    assert not np.array_equal(a[1], b[1])


def _hue(rgb: np.ndarray) -> float:
    return colorsys.rgb_to_hsv(*(float(c) for c in rgb))[0] * 360.0


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("palette", [GREEN, PURPLE])
def test_colours_come_from_the_palette(
    tmp_path: Path, style: str, palette: tuple[str, ...]
) -> None:
    background = _generate(tmp_path, style=style, palette=palette, seed=2)[0]
    mean = background[..., :3].reshape(-1, 3).mean(0) / 255.0
    target = _hue(np.array(parse_color(palette[1])[:3]) / 255.0)
    distance = abs(_hue(mean) - target) % 360
    assert min(distance, 360 - distance) < 20, (style, _hue(mean), target)


@pytest.mark.parametrize("style", STYLES)
def test_lower_third_stays_dark_for_captions(tmp_path: Path, style: str) -> None:
    background = _generate(tmp_path, style=style, palette=PURPLE, width=180, height=320)[0]
    luma = background[..., :3].astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722])
    lower = luma[int(320 * 0.72) :].mean()
    assert lower < 110, "white captions need a darker lower third"
    assert lower < luma[: int(320 * 0.5)].mean()


def test_unknown_style_lists_the_styles(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        ProceduralVisuals().generate(VisualRequest(320, 180, 1000, style="plaid"), tmp_path)
    assert "plaid" in str(caught.value)
    assert all(style in caught.value.hint for style in STYLES)


def test_bad_palette_colour(tmp_path: Path) -> None:
    with pytest.raises(SpecError):
        ProceduralVisuals().generate(
            VisualRequest(320, 180, 1000, palette=("#0f172a", "blue-ish")), tmp_path
        )


def test_single_colour_palette(tmp_path: Path) -> None:
    layers = _generate(tmp_path, style="waves", palette=("#c2410c",))
    assert layers[0][..., :3].std() > 1.0


# ----------------------------------------------------------------------------- fonts


@pytest.mark.parametrize(
    ("language", "text"),
    [("en", "Hello"), ("ar", "مرحبا"), ("hi", "नमस्ते"), ("ja", "こんにちは")],
)
def test_font_file_covers_language(language: str, text: str) -> None:
    path = font_file(None, language, bold=True)
    assert path.is_file()
    sprite = render_text(text, path, 40, language=language)
    # Missing glyphs would draw identical .notdef boxes; real glyphs give varied ink.
    assert sprite[..., 3].max() == 255 and sprite.shape[1] > 40


def test_font_fallback_to_noto_for_scripts() -> None:
    assert "Devanagari" in family_for("hi", "DejaVu Sans")
    assert "CJK" in family_for("ja", "Noto Sans")
    assert "Arabic" in family_for("ar", "Noto Sans")
    assert family_for("en", "DejaVu Sans") == "DejaVu Sans"
    cjk = font_file("Noto Sans", "zh")
    assert face_index(cjk, "zh") != face_index(cjk, "ja")


def test_missing_font_file(tmp_path: Path) -> None:
    with pytest.raises(MediaError) as caught:
        font_file(str(tmp_path / "nope.ttf"))
    assert "fonts-noto-core" in caught.value.hint


# ----------------------------------------------------------------------------- sprites


@pytest.fixture(scope="module")
def latin() -> Path:
    return font_file("DejaVu Sans", "en", bold=True)


def test_parse_color() -> None:
    assert parse_color("#ff8000") == (255, 128, 0, 255)
    assert parse_color("#00000080") == (0, 0, 0, 128)
    assert parse_color("white") == (255, 255, 255, 255)
    assert parse_color("#fff") == (255, 255, 255, 255)
    for bad in ("", "#12", "not-a-colour"):
        with pytest.raises(SpecError):
            parse_color(bad)


def test_text_grows_with_text(latin: Path) -> None:
    short = render_text("Hi", latin, 48)
    long = render_text("Hi there, friends", latin, 48)
    bigger = render_text("Hi", latin, 96)
    assert short.dtype == np.uint8 and short.ndim == 3 and short.shape[2] == 4
    assert long.shape[1] > short.shape[1]
    assert bigger.shape[0] > short.shape[0] and bigger.shape[1] > short.shape[1]


def test_wrapping_respects_max_width(latin: Path) -> None:
    text = "the quick brown fox jumps over the lazy dog again and again"
    one_line = render_text(text, latin, 40)
    wrapped = render_text(text, latin, 40, max_width_px=300)
    assert one_line.shape[1] > 300
    assert wrapped.shape[1] <= 300 + 4  # antialiasing may spill a pixel or two
    assert wrapped.shape[0] > 2 * one_line.shape[0]


def test_wrapped_lines_are_balanced(latin: Path) -> None:
    from reelforge.text.sprites import _Shaper, _wrap

    shaper = _Shaper(latin, 48, "en", False)
    lines = _wrap("La nouvelle médiathèque ouvre ses portes", shaper, 900)
    assert len(lines) == 2  # no orphan: "...ouvre ses" / "portes" would be greedy
    widths = [shaper.width(line) for line in lines]
    assert max(widths) <= 900 and min(widths) > 0.5 * max(widths)


def test_cjk_wraps_per_character() -> None:
    font = font_file(None, "ja", bold=True)
    text = "こんにちは世界、私たちのレストランへようこそ"
    single = render_text(text, font, 40, language="ja")
    wrapped = render_text(text, font, 40, language="ja", max_width_px=250)
    assert wrapped.shape[1] <= 254 and wrapped.shape[0] > 2 * single.shape[0]


def test_arabic_is_shaped() -> None:
    font = font_file(None, "ar", bold=True)
    word = "مرحبا"
    joined = render_text(word, font, 60, language="ar")
    isolated = [render_text(letter, font, 60, language="ar") for letter in word]
    # Joined (initial/medial/final) forms are narrower than the isolated letters side by side,
    # and narrower than the same word laid out without shaping (Pillow's basic layout).
    assert joined.shape[1] < sum(s.shape[1] for s in isolated) - 10
    unshaped = ImageFont.truetype(str(font), 60, layout_engine=ImageFont.Layout.BASIC)
    assert joined.shape[1] < unshaped.getlength(word) - 20


def test_box_shadow_and_stroke(latin: Path) -> None:
    plain = render_text("Boxed", latin, 48)
    boxed = render_text("Boxed", latin, 48, box_color="#00000080")
    stroked = render_text("Boxed", latin, 48, stroke_px=4)
    shadowed = render_text("Boxed", latin, 48, shadow=True)
    assert boxed.shape[0] > plain.shape[0] + 20 and boxed.shape[1] > plain.shape[1] + 20
    assert 100 < boxed[2 * boxed.shape[0] // 3, 4, 3] < 160  # the translucent panel's alpha
    assert stroked.shape[1] >= plain.shape[1] + 6
    assert (stroked[..., :3].reshape(-1, 3).min(0) < 40).all()  # black outline present
    assert shadowed.shape[0] > plain.shape[0]
    # Straight alpha with no dark fringe: transparent pixels carry the ink colour.
    assert (plain[plain[..., 3] == 0][:, :3] == 255).all()


def test_bad_text_arguments(latin: Path) -> None:
    with pytest.raises(SpecError):
        render_text("x", latin, 40, align="justify")
    with pytest.raises(SpecError):
        render_text("x", latin, 40, color="nope")


def test_image_sprite(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGBA", (200, 100), (255, 0, 0, 255)).save(logo)
    sprite = render_image_sprite(logo, 80, opacity=0.5)
    assert sprite.shape == (40, 80, 4)
    assert abs(int(sprite[20, 40, 3]) - 128) <= 1
    assert tuple(sprite[20, 40, :3]) == (255, 0, 0)


def test_image_sprite_errors(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        render_image_sprite(tmp_path / "missing.png", 80, 1.0)
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(MediaError) as caught:
        render_image_sprite(corrupt, 80, 1.0)
    assert caught.value.hint

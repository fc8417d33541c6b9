"""Layout: what each clip shows (pictures, camera motion, titles), the caption look and the
watermark, sized for the output's aspect ratio.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reelforge.engines import registry
from reelforge.engines.base import VisualRequest, VisualResult
from reelforge.errors import EngineUnavailable, SpecError
from reelforge.plan.timing import Slot, transition, transition_frames
from reelforge.spec.model import MotionSpec, Storyboard, VisualSpec
from reelforge.spec.templates import Template
from reelforge.timeline import (
    MOTION_PRESETS,
    CaptionStyle,
    Clip,
    ImageOverlay,
    Layer,
    Motion,
    SpriteMotion,
    TextOverlay,
    Transition,
)

# Procedural art is soft (gradients, glows, blurred shapes): from 360p up it is drawn and
# composed at half size and upscaled once with the finished clip (4x fewer pixels per frame).
SOFT_ART_ENGINE = "procedural"
SOFT_ART_DETAIL = 0.5
SOFT_ART_MIN_SIDE = 360  # previews too: their soft art composes at 320x180
DEFAULT_ENGINE = "illustrated"  # the storyboard's default visual_engine
# engines whose pictures are abstract: a prompt only seeds their design
BACKDROP_ENGINES = ("procedural", "illustrated")
PROMPT_FALLBACK = (
    "prompt-fallback: prompt visuals were drawn by the procedural or illustrated engine (no "
    "generative visual engine is configured); the prompt seeds the design or picks subjects"
)


@dataclass(frozen=True)
class Canvas:
    """The output picture and where planning writes the pictures it draws."""

    width: int
    height: int
    fps: int
    workdir: Path

    @property
    def vertical(self) -> bool:
        return self.height > self.width

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


def motion(spec: MotionSpec | str | None, fallback: str) -> Motion:
    if spec is None:
        return MOTION_PRESETS[fallback]
    if isinstance(spec, str):
        if spec not in MOTION_PRESETS:
            raise SpecError(
                f"unknown motion {spec!r}", hint=f"use one of: {', '.join(MOTION_PRESETS)}"
            )
        return MOTION_PRESETS[spec]
    return Motion(
        spec.zoom[0], spec.zoom[1], spec.x[0], spec.x[1], spec.y[0], spec.y[1], spec.easing
    )


def caption_style(sb: Storyboard, template: Template, canvas: Canvas, lang: str) -> CaptionStyle:
    from reelforge.captions.formats import caption_font_for

    cap = sb.captions
    width, height = canvas.width, canvas.height
    size = cap.size or round(canvas.short_side * (0.074 if canvas.vertical else 0.06))
    margin_frac = {"bottom": 0.2 if canvas.vertical else 0.09, "top": 0.12, "center": 0.0}
    position = cap.position or "bottom"
    return CaptionStyle(
        name=cap.style or template.caption_style,
        font=caption_font_for(lang, cap.font or "DejaVu Sans"),
        size_px=size,
        bold=True,
        color=cap.color or template.caption_color,
        highlight_color=cap.highlight_color or template.caption_highlight,
        outline_px=cap.outline if cap.outline is not None else max(2, round(size / 16)),
        position=position,
        margin_v_px=cap.margin if cap.margin is not None else round(height * margin_frac[position]),
        margin_h_px=round(width * 0.06),
        uppercase=cap.uppercase if cap.uppercase is not None else template.caption_uppercase,
        max_words=cap.max_words,
        max_chars=cap.max_chars,
    )


# --------------------------------------------------------------------------- pictures


def given_layers(visual: VisualSpec, moving: Motion) -> tuple[Layer, ...]:
    """The user's own picture or video clip (checked by planning before any engine ran)."""
    assert visual.path
    if visual.type == "image":
        return (Layer(visual.path, "image", visual.fit, moving),)
    still = MOTION_PRESETS["none"] if visual.motion is None else moving
    start_ms = round(visual.start * 1000)
    return (Layer(visual.path, "video", visual.fit, still, 1.0, start_ms, visual.loop),)


def drawn_layers(
    request: VisualRequest,
    engine_name: str,
    folder: Path,
    moving: Motion,
    detail: float,
) -> tuple[tuple[Layer, ...], dict[str, str], VisualResult]:
    """The visuals engine's picture layers for one scene (the first moves with the scene, the
    parallax overlays their own way, sprites by their animation), the engine's facts for the
    manifest, and its result."""
    engine = registry.get("visuals", engine_name)
    info = engine.info()
    folder.mkdir(parents=True, exist_ok=True)
    result = engine.generate(request, folder)
    layers = []
    if result.video is not None:
        # a generated clip, already fitted to the scene: cover-fitted like a user's clip; it
        # moves by itself, so no camera motion and no loop
        clip = Layer(str(result.video), "video", "cover", MOTION_PRESETS["none"], loop=False)
        layers.append(clip)
    for k, layer in enumerate(result.layers):
        if layer.box is not None:
            x, y, width = layer.box
            sprite = SpriteMotion(
                x, y, width, layer.animation, layer.entrance, layer.delay, layer.phase
            )
            layers.append(Layer(str(layer.path), opacity=layer.opacity, sprite=sprite))
            continue
        own = motion(layer.motion if layer.motion != "auto" else None, "drift-reverse")
        layers.append(
            Layer(
                str(layer.path),
                motion=moving if k == 0 else own,
                opacity=layer.opacity,
                detail=detail,
            )
        )
    return tuple(layers), {"name": info.name, "version": info.version}, result


def scene_layers(
    sb: Storyboard,
    template: Template,
    canvas: Canvas,
    index: int,
    duration_ms: int,
    engines: dict[str, dict[str, str]],
    notes: list[str],
    language: str = "",
    picture: dict[str, str] | None = None,
    keep_clear: tuple[Box, ...] = (),
) -> tuple[Layer, ...]:
    """What scene ``index`` shows: a given picture or clip, else the visuals engine's art.

    An engine that draws subjects over a backdrop (the illustrated one) gets the scene's words
    and language, and the boxes its titles and captions cover (``keep_clear``); the backdrop
    under its subjects, or alone when nothing matched, is the procedural engine's picture in the
    scene's style. ``picture`` receives what was drawn and why, for the manifest.
    """
    scene = sb.scenes[index]
    picture = {} if picture is None else picture
    visual = scene.visual or VisualSpec(type="procedural")
    moving = motion(visual.motion, template.motion_for(index))
    engine_name = sb.visual_engine
    folder = canvas.workdir / f"scene{index:03d}"
    if visual.type == "image" and animates_pictures(engine_name):
        # an image-to-video engine was chosen: the user's picture is what it animates
        assert visual.path
        request = generative_request(sb, template, canvas, index, duration_ms, language)
        request = replace(request, reference_image=Path(visual.path))
        layers, engines["visuals"], result = drawn_layers(request, engine_name, folder, moving, 1.0)
        picture.update({"engine": f"{engine_name} (animating {Path(visual.path).name})"})
        picture.update({k: v for k, v in result.extras.items() if k != "engine"})
        return layers
    if visual.type in ("image", "video"):
        picture["engine"] = "given"
        return given_layers(visual, moving)
    if visual.type == "prompt" and engine_name in BACKDROP_ENGINES and PROMPT_FALLBACK not in notes:
        notes.append(PROMPT_FALLBACK)
    if engine_name not in BACKDROP_ENGINES:
        request = generative_request(sb, template, canvas, index, duration_ms, language)
        layers, engines["visuals"], result = drawn_layers(request, engine_name, folder, moving, 1.0)
        picture.update({"engine": engine_name, **result.extras})
        picture.setdefault("prompt", request.prompt)
        return layers
    if engine_name != SOFT_ART_ENGINE:
        subjects_request = VisualRequest(
            width=canvas.width,
            height=canvas.height,
            duration_ms=duration_ms,
            style=visual.style or template.style_for(index),
            palette=tuple(template.palette),
            seed=sb.seed * 1009 + index,
            prompt=visual.prompt or scene.narration or scene.title or sb.title,
            language=language,
            title=scene.title or "",
            keep_clear=keep_clear,
        )
        try:
            layers, engines["visuals"], result = drawn_layers(
                subjects_request, engine_name, folder, moving, 1.0
            )
        except EngineUnavailable as exc:
            if engine_name != DEFAULT_ENGINE:
                raise
            # the default engine lacks its font here: the scene keeps the procedural picture
            note = f"illustrated-unavailable: {exc.message} ({exc.hint})"
            if note not in notes:
                notes.append(note)
            result = VisualResult(over_backdrop=True)
            layers = ()
        picture.update({"engine": engine_name, **result.extras})
        if not result.over_backdrop:
            return layers
        backdrop = _backdrop(sb, template, canvas, index, duration_ms, visual, folder, moving)
        if not layers:
            picture["engine"] = f"{SOFT_ART_ENGINE} (nothing to illustrate matched)"
        return backdrop + layers
    picture["engine"] = engine_name
    layers = _backdrop(sb, template, canvas, index, duration_ms, visual, folder, moving)
    engines["visuals"] = {"name": SOFT_ART_ENGINE, "version": _version(SOFT_ART_ENGINE)}
    return layers


def generative_request(
    sb: Storyboard,
    template: Template,
    canvas: Canvas,
    index: int,
    duration_ms: int,
    language: str,
) -> VisualRequest:
    """Scene ``index``'s request to a generative engine: a prompt built from what the scene
    says, the template's keywords and cultural context (:mod:`reelforge.plan.prompts`), and one
    seed for every scene, so a character and a look carry from scene to scene (with the
    storyboard's ``character``: its words in every prompt, its picture as the reference)."""
    from reelforge.plan.prompts import scene_prompt

    scene = sb.scenes[index]
    visual = scene.visual or VisualSpec(type="procedural")
    story = " ".join(
        [sb.title, *(s.title or "" for s in sb.scenes), *(s.narration for s in sb.scenes)]
    )
    character = sb.character
    built = scene_prompt(
        template,
        character=character.description or "" if character else "",
        narration=scene.narration,
        title=scene.title or ("" if scene.narration else sb.title),
        visual_prompt=visual.prompt or "",
        language=language,
        story=story,
        video=sb.visual_engine.endswith("video"),
    )
    return VisualRequest(
        width=canvas.width,
        height=canvas.height,
        duration_ms=max(1, duration_ms),
        style=visual.style or template.style_for(index),
        palette=tuple(template.palette),
        seed=sb.seed * 1009,
        prompt=built.prompt,
        language=language,
        title=scene.title or "",
        negative_prompt=built.negative,
        reference_image=Path(character.image) if character and character.image else None,
    )


def animates_pictures(engine_name: str) -> bool:
    """Whether the visuals engine turns a given picture into a clip (image-to-video)."""
    if engine_name in BACKDROP_ENGINES:
        return False
    return bool(getattr(registry.get("visuals", engine_name), "animates_pictures", False))


def check_generative_engine(sb: Storyboard) -> None:
    """Fail fast, before the voices speak, when a generative engine cannot run here (no torch,
    no model folder): its reason names the extra or the setting to fix."""
    if sb.visual_engine in BACKDROP_ENGINES:
        return
    info = registry.get("visuals", sb.visual_engine).info()
    if not info.available:
        raise EngineUnavailable(
            f"visual engine {sb.visual_engine!r} cannot run: {info.reason}",
            hint="see `reelforge engines`, or choose visual_engine: illustrated",
        )


def prepare_generated(
    sb: Storyboard, template: Template, canvas: Canvas, languages: Sequence[str]
) -> None:
    """Let a generative engine that batches (``prepare``) generate every scene that will ask
    for a picture, several per model call, before the scenes are laid out one by one."""
    engine_name = sb.visual_engine
    if engine_name in BACKDROP_ENGINES:
        return
    engine = registry.get("visuals", engine_name)
    prepare = getattr(engine, "prepare", None)
    if prepare is None:
        return
    requests = [
        generative_request(sb, template, canvas, i, 1000, languages[i])
        for i, scene in enumerate(sb.scenes)
        if not (scene.visual and scene.visual.type in ("image", "video"))
    ]
    if requests:
        prepare(requests, canvas.workdir)


def _version(engine_name: str) -> str:
    return registry.get("visuals", engine_name).info().version


def _backdrop(
    sb: Storyboard,
    template: Template,
    canvas: Canvas,
    index: int,
    duration_ms: int,
    visual: VisualSpec,
    folder: Path,
    moving: Motion,
) -> tuple[Layer, ...]:
    """The procedural engine's picture for a scene, in its style (soft art: half size)."""
    scene = sb.scenes[index]
    soft = canvas.short_side >= SOFT_ART_MIN_SIDE
    detail = SOFT_ART_DETAIL if soft else 1.0
    request = VisualRequest(
        width=even(canvas.width * detail),
        height=even(canvas.height * detail),
        duration_ms=duration_ms,
        style=visual.style or template.style_for(index),
        palette=tuple(template.palette),
        seed=sb.seed * 1009 + index,
        prompt=visual.prompt or scene.narration or scene.title or sb.title,
    )
    return drawn_layers(request, SOFT_ART_ENGINE, folder, moving, detail)[0]


def even(value: float) -> int:
    return max(2, 2 * round(value / 2))


# --------------------------------------------------------------------------- clips


def clip(
    sb: Storyboard,
    template: Template,
    canvas: Canvas,
    all_slots: Sequence[Slot],
    index: int,
    spoken: bool,
    language: str,
    engines: dict[str, dict[str, str]],
    notes: list[str],
    picture: dict[str, str] | None = None,
    captions: CaptionStyle | None = None,
) -> Clip:
    """Scene ``index``'s clip over its slot, starting earlier by its transition's frames.

    ``captions``: the style of the captions burned over it, whose box (like the titles') the
    illustrations keep clear."""
    start, frames = all_slots[index]
    kind, into = transition_frames(sb, template, all_slots, index, canvas.fps)
    clip_frames = frames + into
    duration_ms = clip_frames * 1000 // canvas.fps
    span = (into, clip_frames - _leaving_frames(sb, template, index, canvas.fps))
    texts = titles(sb, template, canvas, index, span, spoken, language)
    keep = [title_box(text, canvas) for text in texts]
    if captions is not None:
        keep.append(caption_box(captions, canvas, language))
    return Clip(
        start=start - into,
        frames=clip_frames,
        layers=scene_layers(
            sb,
            template,
            canvas,
            index,
            duration_ms,
            engines,
            notes,
            language,
            picture,
            tuple(keep),
        ),  # fmt: skip
        transition=Transition(kind if into else "cut", into),
        texts=texts,
        background=template.background,
        scene=index,
    )


def _leaving_frames(sb: Storyboard, template: Template, index: int, fps: int) -> int:
    """The frames of the transition out of scene ``index`` (0 for the last scene)."""
    if index + 1 >= len(sb.scenes):
        return 0
    return round(transition(sb, sb.scenes[index + 1], template)[1] * fps)


def titles(
    sb: Storyboard,
    template: Template,
    canvas: Canvas,
    index: int,
    span: tuple[int, int],
    spoken: bool,
    language: str,
) -> tuple[TextOverlay, ...]:
    """The video's own title opens the first scene; that scene's title follows it. Titles show
    from the end of the transition in to the start of the transition out."""
    scene = sb.scenes[index]
    texts = [t for t in (sb.title if index == 0 else None, scene.title) if t]
    if len(texts) == 2 and texts[0].strip() == texts[1].strip():
        texts = texts[:1]
    if not texts:
        return ()
    first = span[0]
    end = max(first + 2, span[1])
    spans = [(first, end)]
    if len(texts) == 2:
        middle = first + max(1, (end - first) * 2 // 5)
        spans = [(first, middle), (middle, end)]
    size = round(canvas.short_side * (0.085 if canvas.vertical else 0.075))
    position = "upper-third" if canvas.vertical or spoken else "center"
    animation = "pop" if template.name == "childrens-story" else "fade-up"
    return tuple(
        TextOverlay(
            text=text,
            font=template.title_font,
            size_px=size,
            color="#ffffff",
            stroke_px=0,
            box_color="#00000066",
            position=position,
            start=shown,
            end=hidden,
            animation=animation,
            language=language,
        )
        for text, (shown, hidden) in zip(texts, spans, strict=True)
    )


# --------------------------------------------------------------------------- text boxes

Box = tuple[float, float, float, float]  # (x0, y0, x1, y1) as fractions of the frame


def title_box(text: TextOverlay, canvas: Canvas) -> Box:
    """The box a title covers on the frame, its entrance included: the compositor draws it
    there (the same text sprite, placed by ``TextOverlay.box``)."""
    from reelforge.text.sprites import render_title

    width, height = canvas.width, canvas.height
    h, w = render_title(text, width).shape[:2]
    x0, y0, x1, y1 = text.box(width, height, (w, h))
    return (x0 / width, y0 / height, x1 / width, y1 / height)


def caption_box(style: CaptionStyle, canvas: Canvas, language: str) -> Box:
    """The box burned captions may cover: the full line width between the margins, and as many
    lines as a caption of ``max_chars`` wraps to at this size (libass wraps wider lines)."""
    from reelforge.captions.lines import is_unspaced_language

    width, height = canvas.width, canvas.height
    size = style.size_px
    unspaced = is_unspaced_language(language)
    # average advance of a character, in em: bold Latin ~0.56 (capitals ~0.64), CJK a full em
    advance = 1.0 if unspaced else 0.64 if style.uppercase else 0.56
    chars = min(style.max_chars, 16) if unspaced else style.max_chars
    room = max(1, width - 2 * style.margin_h_px)
    lines = max(1, min(3, math.ceil(chars * advance * size / room - 0.1)))
    pad = style.outline_px + style.shadow_px + (round(size * 0.25) if style.name == "boxed" else 0)
    block = lines * size * 1.25 + 2 * pad
    y0: float
    if style.position == "top":
        y0 = style.margin_v_px - pad
    elif style.position == "center":
        y0 = (height - block) / 2
    else:
        y0 = height - style.margin_v_px + pad - block
    x0, x1 = style.margin_h_px - pad, width - style.margin_h_px + pad
    return (
        max(0.0, x0 / width),
        max(0.0, y0 / height),
        min(1.0, x1 / width),
        min(1.0, (y0 + block) / height),
    )


# --------------------------------------------------------------------------- watermark


def watermark(sb: Storyboard, canvas: Canvas, language: str) -> ImageOverlay | None:
    """The watermark: a given image, or its text drawn once into the work folder."""
    if sb.watermark is None:
        return None
    path = sb.watermark.path
    if sb.watermark.text:
        path = str(canvas.workdir / "watermark.png")
        _draw_watermark(sb.watermark.text, canvas, language, Path(path))
    assert path
    return ImageOverlay(path, sb.watermark.position, sb.watermark.width, sb.watermark.opacity)


def _draw_watermark(text: str, canvas: Canvas, language: str, path: Path) -> None:
    import cv2

    from reelforge.text.fonts import font_file
    from reelforge.text.sprites import render_watermark

    sprite = render_watermark(
        text,
        font_file(None, language, bold=True),
        max(12, round(canvas.short_side * 0.035)),
        1.0,
        language,
    )
    cv2.imwrite(str(path), cv2.cvtColor(sprite, cv2.COLOR_RGBA2BGRA))

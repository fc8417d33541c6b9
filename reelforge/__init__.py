"""reelforge: an offline-first AI video studio.

The front door: the verbs a user, the command line and the service need, and only those::

    import reelforge

    reelforge.make(reelforge.load_spec("script.md"), "out.mp4")

Each verb imports its module when called, so ``import reelforge`` loads no numpy, OpenCV,
onnxruntime or FastAPI. The result and error types are here too (the types load on first use).
The verbs are ``plan_video`` and ``render_timeline``, not ``plan`` and ``render``: those names
are the subpackages ``reelforge.plan`` and ``reelforge.render``, which Python sets as attributes
of this package when they are imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelforge.errors import (
    EngineFailed,
    EngineUnavailable,
    JobError,
    MediaError,
    ReelforgeError,
    RenderError,
    SpecError,
)

if TYPE_CHECKING:
    from reelforge.clips.pipeline import ClipsResult
    from reelforge.engines.base import EngineInfo, Transcript, VoiceInfo
    from reelforge.media.probe import MediaInfo
    from reelforge.pipeline import MakeResult
    from reelforge.plan import Planned
    from reelforge.render.plan import RenderPlan
    from reelforge.spec.model import Storyboard
    from reelforge.spec.templates import Template
    from reelforge.talking.make import TalkingResult
    from reelforge.timeline import Timeline
    from reelforge.writer import WrittenScript

__version__ = "0.1.0"

# Called with a stage name ("voice", "visuals", "music", "audio", "video") and its progress
# in [0, 1].
Progress = Callable[[str, float], None]


# --------------------------------------------------------------------------- specs


def load_spec(path: str | Path, **overrides: Any) -> Storyboard:
    """Read a script (.txt, .md) or storyboard (.yaml, .yml, .json) file.

    ``overrides`` are storyboard fields that win over the file (``format``, ``voice``,
    ``music``...); relative media paths are resolved against the file's folder and checked.
    """
    from reelforge.spec.load import load_spec as load

    return load(path, **overrides)


def parse_script(text: str, *, source: str = "the script", **overrides: Any) -> Storyboard:
    """A storyboard from a plain-text or Markdown script (no file)."""
    from reelforge.spec.parse import storyboard_from_text

    return storyboard_from_text(text, source=source, **overrides)


def parse_storyboard(
    data: Mapping[str, Any], *, source: str = "the storyboard", **overrides: Any
) -> Storyboard:
    """A storyboard from its fields (a parsed YAML or JSON document); ``overrides`` win."""
    from reelforge.spec.parse import build_storyboard

    return build_storyboard({**data, **overrides}, source=source)


def read_storyboard_text(
    text: str, syntax: str = "yaml", *, source: str = "the storyboard", aliases: bool = True
) -> dict[str, Any]:
    """The fields of a storyboard written as YAML or JSON text (for ``parse_storyboard``):
    syntax, nesting and shape checked; ``aliases=False`` refuses YAML anchors (untrusted text)."""
    from reelforge.spec.load import read_storyboard_text as read

    return read(text, syntax, source, aliases=aliases)


def storyboard_schema() -> dict[str, Any]:
    """The JSON Schema of a storyboard file."""
    from reelforge.spec.load import storyboard_schema as schema

    return schema()


# --------------------------------------------------------------------------- plan and render


def plan_video(
    storyboard: Storyboard,
    workdir: str | Path,
    *,
    preview: bool = False,
    progress: Progress | None = None,
    cache_dir: str | Path | None = None,
    segment_seconds: float | None = None,
) -> Planned:
    """Resolve ``storyboard`` into a timeline (running the voice, music and visual engines);
    its pictures and sounds are written under ``workdir``. Every render decision is made here
    and kept in the timeline: a preview's size and loudness pass, burned captions, and the
    segments a long edit encodes in (``segment_seconds``, default from the settings)."""
    from reelforge.plan import plan as plan_storyboard

    return plan_storyboard(
        storyboard,
        Path(workdir),
        preview=preview,
        progress=progress,
        cache_dir=Path(cache_dir) if cache_dir is not None else None,
        segment_seconds=segment_seconds,
    )


def load_timeline(path: str | Path) -> Timeline:
    """A timeline JSON written by ``plan``, or the timeline inside a ``make`` manifest."""
    from reelforge.pipeline import load_timeline as load

    return load(Path(path))


def compile_timeline(timeline: Timeline, output: str | Path, workdir: str | Path) -> RenderPlan:
    """The render plan (ffmpeg commands and files) ``render_timeline`` would run, without
    running it."""
    from reelforge.render.plan import compile_plan

    return compile_plan(timeline, output, workdir)


def render_timeline(
    timeline: Timeline,
    output: str | Path,
    *,
    workdir: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Render ``timeline`` to ``output`` (MP4). Returns stage timings in seconds."""
    from reelforge.pipeline import render as render_timeline

    return render_timeline(timeline, output, workdir=workdir, progress=progress)


def make(
    storyboard: Storyboard,
    output: str | Path,
    *,
    preview: bool = False,
    progress: Progress | None = None,
    keep_workdir: bool = False,
    cache_dir: str | Path | None = None,
    segment_seconds: float | None = None,
) -> MakeResult:
    """Plan and render ``storyboard`` into ``output`` (MP4) with captions (SRT, VTT, ASS,
    word timings), a thumbnail and a JSON manifest beside it."""
    from reelforge.pipeline import make as make_video

    return make_video(
        storyboard,
        output,
        preview=preview,
        progress=progress,
        keep_workdir=keep_workdir,
        cache_dir=Path(cache_dir) if cache_dir is not None else None,
        segment_seconds=segment_seconds,
    )


def make_talking(script: str, output: str | Path, **options: Any) -> TalkingResult:
    """A lip-synced talking video of ``script``: a built-in ``character="maya"`` or a
    ``portrait="photo.jpg"``; options: voice, format, language, preview, speed, captions."""
    from reelforge.talking.make import make_talking as make_it

    return make_it(script, output, **options)


def make_podcast(
    dialogue: str | Mapping[str, Any], output: str | Path, **options: Any
) -> TalkingResult:
    """A podcast video of a ``HOST: ...`` / ``GUEST: ...`` dialogue (or storyboard fields);
    options: speakers, layout (split, host-guest, pip, interview), format, language, preview."""
    from reelforge.talking.podcast import make_podcast as make_it

    return make_it(dialogue, output, **options)


# --------------------------------------------------------------------------- catalogues


def list_voices(language: str | None = None) -> list[VoiceInfo]:
    """Every voice this machine can speak (best engine first), or those of ``language``."""
    from reelforge.text.language import primary_language
    from reelforge.voices import catalog

    wanted = primary_language(language) if language else None  # "fr-FR" -> "fr"
    return [voice for voice in catalog() if wanted is None or voice.language == wanted]


def list_templates() -> list[Template]:
    """The built-in templates (looks and sounds), in their documented order."""
    from reelforge.spec.templates import TEMPLATES

    return list(TEMPLATES.values())


def list_moods(engine: str = "procedural") -> dict[str, str]:
    """The music moods of a music engine: name -> one-line description."""
    from reelforge.engines import registry

    return registry.choices("music", engine)


def list_styles(engine: str = "procedural") -> dict[str, str]:
    """The picture styles of a visuals engine: name -> one-line description."""
    from reelforge.engines import registry

    return registry.choices("visuals", engine)


def sample_voice(voice: str, output: str | Path) -> Path:
    """Write a short sample of catalogue voice ``voice`` (a fixed sentence in its language)
    to ``output`` (.m4a)."""
    from reelforge.samples import sample_voice as speak_sample

    return speak_sample(voice, Path(output))


def sample_music(mood: str, output: str | Path, engine: str = "procedural") -> Path:
    """Write eight seconds of music in ``mood`` to ``output`` (.m4a)."""
    from reelforge.samples import sample_music as compose_sample

    return compose_sample(mood, Path(output), engine)


def sample_template(name: str, output: str | Path) -> Path:
    """Write a 320x180 JPEG still of template ``name`` (its title card and picture style)."""
    from reelforge.samples import sample_template as draw_sample

    return draw_sample(name, Path(output))


def list_engines() -> list[EngineInfo]:
    """Every registered engine and whether it can run here (if not, why and the fix)."""
    from reelforge.engines import registry

    return registry.survey()


def probe_media(path: str | Path) -> MediaInfo:
    """ffprobe facts about a media file (streams, duration, size)."""
    from reelforge.media.probe import probe

    return probe(Path(path))


def transcribe(
    source: str | Path,
    output: str | Path | None = None,
    *,
    language: str | None = None,
    model: str = "",
    format: str | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
) -> Transcript:
    """The speech of a video or sound file as timed words (Whisper, offline), and written to
    ``output`` as SRT, VTT or JSON (by its extension, or ``format``) when given. ``model``:
    ``tiny.en``, ``base`` (multilingual, detects the language) or a model folder."""
    import tempfile

    from reelforge.transcription import output_format, transcribe_file, write_transcript

    if output is not None:
        output_format(Path(output), format)  # a bad name fails before minutes of decoding
    with tempfile.TemporaryDirectory(prefix="reelforge-asr-") as work:
        found = transcribe_file(
            Path(source), Path(work), language=language, model=model, start_s=start_s, end_s=end_s
        )
    if output is not None:
        write_transcript(found, Path(output), format)
    return found


def write_script(
    idea: str,
    *,
    language: str | None = None,
    template: str | None = None,
    seconds: float | None = None,
    engine: str | None = None,
    max_scenes: int = 6,
) -> WrittenScript:
    """A script (storyboard and Markdown) written from an idea, notes or a transcript: by a
    language model when ``REELFORGE_LLM_ENDPOINT`` is set (``engine="openai-compatible"``),
    else by the offline rule-based writer (``engine="rule-based"``). ``language`` defaults to
    the idea's, ``seconds`` to the length the idea names or 30."""
    from reelforge.writer import write_script as write

    return write(
        idea,
        language=language,
        template=template,
        seconds=seconds,
        engine=engine,
        max_scenes=max_scenes,
    )


def extract_clips(
    source: str | Path,
    output_dir: str | Path,
    *,
    count: int = 5,
    format: str = "9:16",
    min_s: float = 20.0,
    max_s: float = 60.0,
    query: str | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
    captions: str = "bold",
    resolution: int = 720,
    language: str | None = None,
    model: str = "",
    progress: Progress | None = None,
) -> ClipsResult:
    """The best moments of a long talk as ranked, captioned clips (9:16, 1:1 or 4:5) that
    follow the speaker, written to ``output_dir`` with ``clips.json`` (scores and reasons).
    ``query`` keeps moments about a topic; ``start_s``/``end_s`` make one clip of a span."""
    from reelforge.clips.pipeline import ClipOptions
    from reelforge.clips.pipeline import extract_clips as run

    options = ClipOptions(
        count=count,
        format=format,
        min_s=min_s,
        max_s=max_s,
        query=query,
        start_s=start_s,
        end_s=end_s,
        captions=captions,
        resolution=resolution,
        language=language,
        model=model,
    )
    return run(Path(source), Path(output_dir), options, progress=progress)


# The result and value types, imported on first use (they live in modules that are light, but
# importing every one of them up front would load most of the package).
_TYPES = {
    "ClipsResult": "reelforge.clips.pipeline",
    "EngineInfo": "reelforge.engines.base",
    "MakeResult": "reelforge.pipeline",
    "MediaInfo": "reelforge.media.probe",
    "Planned": "reelforge.plan",
    "RenderPlan": "reelforge.render.plan",
    "Storyboard": "reelforge.spec.model",
    "TalkingResult": "reelforge.talking.make",
    "Template": "reelforge.spec.templates",
    "Timeline": "reelforge.timeline",
    "Transcript": "reelforge.engines.base",
    "VoiceInfo": "reelforge.engines.base",
    "WrittenScript": "reelforge.writer",
}


def __getattr__(name: str) -> Any:
    module = _TYPES.get(name)
    if module is None:
        raise AttributeError(f"module 'reelforge' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ClipsResult",
    "EngineFailed",
    "EngineInfo",
    "EngineUnavailable",
    "JobError",
    "MakeResult",
    "MediaError",
    "MediaInfo",
    "Planned",
    "Progress",
    "ReelforgeError",
    "RenderError",
    "RenderPlan",
    "SpecError",
    "Storyboard",
    "TalkingResult",
    "Template",
    "Timeline",
    "Transcript",
    "VoiceInfo",
    "WrittenScript",
    "__version__",
    "compile_timeline",
    "extract_clips",
    "list_engines",
    "list_moods",
    "list_styles",
    "list_templates",
    "list_voices",
    "load_spec",
    "load_timeline",
    "make",
    "make_podcast",
    "make_talking",
    "parse_script",
    "parse_storyboard",
    "plan_video",
    "probe_media",
    "read_storyboard_text",
    "render_timeline",
    "sample_music",
    "sample_template",
    "sample_voice",
    "transcribe",
    "storyboard_schema",
    "write_script",
]

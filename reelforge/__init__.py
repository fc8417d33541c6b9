"""reelforge: an offline-first AI video studio.

The front door: the verbs a user, the command line and the service need, and only those::

    import reelforge

    reelforge.make(reelforge.load_spec("script.md"), "out.mp4")

Each verb imports its module on first use (module ``__getattr__``: most verbs are the library
function itself), so ``import reelforge`` loads no numpy, OpenCV, onnxruntime or FastAPI. The
result and error types are here too.
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

if TYPE_CHECKING:  # the names __getattr__ gives, with their real signatures for type checkers
    from reelforge.clips.pipeline import ClipOptions as ClipOptions
    from reelforge.clips.pipeline import ClipsResult as ClipsResult
    from reelforge.engines.base import EngineInfo as EngineInfo
    from reelforge.engines.base import Transcript as Transcript
    from reelforge.engines.base import VoiceInfo as VoiceInfo
    from reelforge.engines.registry import survey as list_engines
    from reelforge.media.probe import MediaInfo as MediaInfo
    from reelforge.media.probe import probe as probe_media
    from reelforge.pipeline import MakeResult as MakeResult
    from reelforge.pipeline import load_timeline as load_timeline
    from reelforge.pipeline import make as make
    from reelforge.pipeline import render as render_timeline
    from reelforge.plan import Planned as Planned
    from reelforge.plan import plan as plan_video
    from reelforge.render.plan import RenderPlan as RenderPlan
    from reelforge.render.plan import compile_plan as compile_timeline
    from reelforge.samples import sample_music as sample_music
    from reelforge.samples import sample_template as sample_template
    from reelforge.samples import sample_voice as sample_voice
    from reelforge.spec.load import load_spec as load_spec
    from reelforge.spec.load import read_storyboard_text as read_storyboard_text
    from reelforge.spec.load import storyboard_schema as storyboard_schema
    from reelforge.spec.model import Storyboard as Storyboard
    from reelforge.spec.parse import storyboard_from_text as parse_script
    from reelforge.spec.templates import Template as Template
    from reelforge.talking.make import TalkingResult as TalkingResult
    from reelforge.talking.make import make_talking as make_talking
    from reelforge.talking.podcast import make_podcast as make_podcast
    from reelforge.talking.produce import TalkingOptions as TalkingOptions
    from reelforge.timeline import Timeline as Timeline
    from reelforge.writer import WrittenScript as WrittenScript
    from reelforge.writer import describe_image as describe_image
    from reelforge.writer import write_script as write_script

__version__ = "0.1.0"

# Called with a stage name ("voice", "visuals", "music", "audio", "video") and its progress
# in [0, 1].
Progress = Callable[[str, float], None]


# --------------------------------------------------------------------------- specs


def parse_storyboard(
    data: Mapping[str, Any], *, source: str = "the storyboard", **overrides: Any
) -> Storyboard:
    """A storyboard from its fields (a parsed YAML or JSON document); ``overrides`` win."""
    from reelforge.spec.parse import build_storyboard

    return build_storyboard({**data, **overrides}, source=source)


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


def extract_clips(
    source: str | Path,
    output_dir: str | Path,
    options: ClipOptions | None = None,
    *,
    progress: Progress | None = None,
    **fields: Any,
) -> ClipsResult:
    """The best moments of a long talk as ranked, captioned clips (9:16, 1:1 or 4:5) that
    follow the speaker, written to ``output_dir`` with ``clips.json`` (scores and reasons).

    How to cut them is a :class:`ClipOptions` (``count``, ``format``, ``min_s``/``max_s``,
    ``query``, ``start_s``/``end_s``, ``captions``, ``resolution``, ``language``, ``model``,
    ``llm``), given as ``options`` or field by field as keywords (``count=3``), which win
    over ``options``. ``query`` keeps moments about a topic; ``start_s``/``end_s`` make one
    clip of a span; with ``llm`` the configured language model (``REELFORGE_LLM_ENDPOINT``),
    if any, rates the moments too."""
    from dataclasses import replace

    from reelforge.clips.pipeline import ClipOptions
    from reelforge.clips.pipeline import extract_clips as run

    chosen = replace(options or ClipOptions(), **fields)
    return run(Path(source), Path(output_dir), chosen, progress=progress)


# The verbs that are a library function as it is, and the result and value types: name ->
# "module:attribute", imported on first use (each module is light, but importing them all up
# front would load most of the package). The TYPE_CHECKING block above names the same ones.
_LAZY = {
    "ClipOptions": "reelforge.clips.pipeline:ClipOptions",
    "ClipsResult": "reelforge.clips.pipeline:ClipsResult",
    "EngineInfo": "reelforge.engines.base:EngineInfo",
    "MakeResult": "reelforge.pipeline:MakeResult",
    "MediaInfo": "reelforge.media.probe:MediaInfo",
    "Planned": "reelforge.plan:Planned",
    "RenderPlan": "reelforge.render.plan:RenderPlan",
    "Storyboard": "reelforge.spec.model:Storyboard",
    "TalkingOptions": "reelforge.talking.produce:TalkingOptions",
    "TalkingResult": "reelforge.talking.make:TalkingResult",
    "Template": "reelforge.spec.templates:Template",
    "Timeline": "reelforge.timeline:Timeline",
    "Transcript": "reelforge.engines.base:Transcript",
    "VoiceInfo": "reelforge.engines.base:VoiceInfo",
    "WrittenScript": "reelforge.writer:WrittenScript",
    "compile_timeline": "reelforge.render.plan:compile_plan",
    "list_engines": "reelforge.engines.registry:survey",
    "load_spec": "reelforge.spec.load:load_spec",
    "load_timeline": "reelforge.pipeline:load_timeline",
    "make": "reelforge.pipeline:make",
    "make_podcast": "reelforge.talking.podcast:make_podcast",
    "make_talking": "reelforge.talking.make:make_talking",
    "parse_script": "reelforge.spec.parse:storyboard_from_text",
    "plan_video": "reelforge.plan:plan",
    "probe_media": "reelforge.media.probe:probe",
    "read_storyboard_text": "reelforge.spec.load:read_storyboard_text",
    "render_timeline": "reelforge.pipeline:render",
    "sample_music": "reelforge.samples:sample_music",
    "sample_template": "reelforge.samples:sample_template",
    "sample_voice": "reelforge.samples:sample_voice",
    "storyboard_schema": "reelforge.spec.load:storyboard_schema",
    "write_script": "reelforge.writer:write_script",
    "describe_image": "reelforge.writer:describe_image",
}


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'reelforge' has no attribute {name!r}")
    module, attribute = target.split(":")
    # looked up on every use, not cached here, so a patched library function is the verb too
    return getattr(importlib.import_module(module), attribute)


__all__ = [
    "ClipOptions",
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
    "TalkingOptions",
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
    "describe_image",
]

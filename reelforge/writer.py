"""Scripts from an idea: choose the writer engine, ask it, and give back a checked storyboard
with its Markdown script (what ``reelforge write`` saves and ``reelforge make`` reads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelforge.engines import registry
from reelforge.engines.base import WritingRequest
from reelforge.errors import EngineUnavailable
from reelforge.spec import writing
from reelforge.spec.model import Storyboard
from reelforge.spec.parse import build_storyboard
from reelforge.text.language import detect_language, primary_language

RULE_BASED = "rule-based"
LANGUAGE_MODEL = "openai-compatible"


@dataclass(frozen=True)
class WrittenScript:
    """A script a writer engine wrote, checked against the storyboard model."""

    storyboard: Storyboard
    fields: dict[str, Any]  # the storyboard fields as written (with visual prompts)
    markdown: str  # the script as Markdown; visual prompts are comments
    engine: str
    version: str
    model: str = ""
    attempts: int = 1
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready record: what was written and by which engine."""
        return {
            "engine": self.engine,
            "version": self.version,
            "model": self.model,
            "attempts": self.attempts,
            "notes": list(self.notes),
            "storyboard": self.fields,
            "markdown": self.markdown,
        }


def default_engine() -> str:
    """The settings' writer: REELFORGE_WRITER_ENGINE, else the language model when an endpoint
    is configured, else the rule-based writer (offline)."""
    from reelforge.settings import get_settings

    settings = get_settings()
    if settings.writer_engine:
        return settings.writer_engine
    return LANGUAGE_MODEL if settings.llm_endpoint else RULE_BASED


def write_script(
    idea: str,
    *,
    language: str | None = None,
    template: str | None = None,
    seconds: float | None = None,
    engine: str | None = None,
    max_scenes: int = 6,
) -> WrittenScript:
    """Write a storyboard from ``idea`` (a sentence, notes or a transcript).

    ``language`` defaults to the idea's, ``seconds`` to the length the idea names ("a
    30-second promo") or 30, ``template`` to the one the idea's words suggest.
    """
    idea = idea.strip() if isinstance(idea, str) else idea
    language = primary_language(language) if language else detect_language(idea or "")
    if seconds is None:
        seconds = writing.seconds_in(idea or "") or 30.0
    template = template if template is not None else writing.guess_template(idea or "")
    writing.check_request(
        idea, language=language, template=template, seconds=seconds, max_scenes=max_scenes
    )
    name = engine or default_engine()
    writer = registry.get("writer", name)
    written = writer.write(
        WritingRequest(
            idea=idea,
            language=language,
            template=template,
            seconds=float(seconds),
            max_scenes=max_scenes,
        )
    )
    fields = dict(written.storyboard)
    board = build_storyboard(fields, source=f"the {name} writer's storyboard")
    return WrittenScript(
        storyboard=board,
        fields=fields,
        markdown=writing.to_markdown(fields, engine=written.engine, model=written.model),
        engine=written.engine,
        version=written.version,
        model=written.model,
        attempts=written.attempts,
        notes=written.notes,
    )


def describe_image(image: str | Path, *, engine: str = "blip") -> str:
    """What the picture ``image`` shows, in one English sentence, by a captioning engine (the
    ``gen`` extra and ``REELFORGE_CAPTION_MODEL``): the idea of a story written from it."""
    captioner = registry.get("captioner", engine)
    info = captioner.info()
    if not info.available:
        raise EngineUnavailable(f"the {engine} captioner cannot run here", hint=info.reason)
    return captioner.describe(Path(image))

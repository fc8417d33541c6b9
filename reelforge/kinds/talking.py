"""The talking character: a script said by a built-in character or a portrait photo,
lip-synced, with captions, thumbnail and manifest (``POST /api/talking``, ``reelforge talk``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from reelforge.kinds import (
    JobKind,
    JobRequest,
    Output,
    Stage,
    Workload,
    field_media,
    video_outputs,
    video_run,
)

OUTPUTS: Mapping[str, Output] = video_outputs("talking")

STAGES: Mapping[str, Stage] = {
    "voice": Stage("processing"),
    "audio": Stage("rendering", 0.0, 0.1),
    "video": Stage("rendering", 0.1, 1.0),
}

WORDS_PER_SECOND = 2.5
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
SIZES = {"9:16": (1080, 1920), "16:9": (1920, 1080), "1:1": (1080, 1080)}


PictureReference = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Pictures = PictureReference | tuple[PictureReference, ...] | None
PICTURES_DESCRIPTION = (
    "a photo, media:<id>; or a list of photos of the same character (poses, outfits), "
    "taking the {turns} in turn"
)


def known_pictures(value: object) -> object:
    """A ``portrait`` field as sent: one ``media:<id>``, or a list of them that is not empty
    and not longer than the library takes (a ValueError that says what to do: 422)."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list | tuple):
        raise ValueError("give the media:<id> of an uploaded image, or a list of them")
    if not value:
        raise ValueError("the list of pictures is empty: give at least one media:<id>, or none")
    if not all(isinstance(item, str) for item in value):
        raise ValueError("each picture is a media:<id> string (upload it with POST /api/media)")
    from reelforge.errors import SpecError
    from reelforge.talking.portrait import check_picture_count

    try:
        check_picture_count(len(value))
    except SpecError as exc:
        raise ValueError(f"{exc.message} ({exc.hint})") from None
    return tuple(value)


def known_character(value: str | None) -> str | None:
    """A built-in character's name as the cast spells it; a ValueError (422) for another."""
    if value is None:
        return None
    from reelforge.errors import SpecError
    from reelforge.talking.cast import character

    try:
        return character(value).name
    except SpecError as exc:
        raise ValueError(f"{exc.message} ({exc.hint})") from None


class SpokenRequest(JobRequest):
    """What a talking video and a podcast both choose beside their format: the language, the
    pace, captions, the seed and the backdrop. Forms built from the schema ask these right after
    the kind's ``format``, with the kind's own choices (after them: where to run it)."""

    language: str = Field("en", min_length=2, max_length=16, pattern=LANGUAGE_PATTERN)
    speed: float = Field(1.0, ge=0.5, le=2.0)
    captions: bool = True
    seed: int = Field(0, ge=0, le=2**31 - 1)
    background: Literal["studio", "animated"] = "studio"

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = super().__get_pydantic_json_schema__(schema, handler)
        properties = handler.resolve_ref_schema(json_schema).get("properties", {})
        shared = [
            name
            for name in SpokenRequest.model_fields
            if name in properties and name not in JobRequest.model_fields
        ]
        ordered: dict[str, Any] = {}
        for name, value in properties.items():
            if name not in shared:
                ordered[name] = value
            if name == "format":
                ordered.update((s, properties[s]) for s in shared)
        properties.clear()
        properties.update(ordered)
        return json_schema


class TalkingRequest(SpokenRequest):
    """A script and who says it: a built-in character or a portrait (``media:<id>``)."""

    script: str = Field(min_length=1, max_length=20_000, description="plain text or Markdown")
    character: str | None = Field(
        None, max_length=40, description="a built-in character (GET /api/characters)"
    )
    portrait: Pictures = Field(None, description=PICTURES_DESCRIPTION.format(turns="paragraphs"))
    voice: str | None = Field(None, max_length=64, description="see GET /api/voices")
    format: Literal["9:16", "16:9", "1:1"] = "9:16"

    _known_character = field_validator("character")(known_character)
    _known_pictures = field_validator("portrait", mode="before")(known_pictures)

    @model_validator(mode="after")
    def _one_speaker(self) -> TalkingRequest:
        if self.character and self.portrait:
            raise ValueError("give a portrait or a character, not both")
        return self

    @field_validator("script")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not value.split():
            raise ValueError("the script is empty")
        return value


def spoken_seconds(script: str, speed: float) -> float:
    return len(script.split()) / WORDS_PER_SECOND / speed + 1.0


def workload(request: TalkingRequest) -> Workload:
    width, height = SIZES[request.format]
    pixels = 1.0 if request.preview else width * height / (1920 * 1080)
    return Workload(seconds=spoken_seconds(request.script, request.speed), pixels=pixels)


media_fields, with_media = field_media("portrait", ("image",))
run = video_run("make_talking", "script", OUTPUTS)


def inspect(picture: Path) -> None:
    """A portrait refused at submission as the run would refuse it (two faces, a face too
    small or cut by the edge); a faceless one passes (whole-image mode)."""
    from reelforge.talking.portrait import check_portrait

    check_portrait(picture)


TALKING = JobKind(
    "talking", TalkingRequest, run, OUTPUTS, workload, media_fields, with_media, STAGES, inspect
)

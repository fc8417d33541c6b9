"""The podcast: a dialogue between two to four characters (built-in or portraits), each
lip-synced on their turns, in a chosen layout (``POST /api/podcasts``, ``reelforge podcast``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reelforge.kinds import (
    JobKind,
    MediaField,
    Output,
    Rename,
    Workload,
    media_items,
    renamed_media,
    video_outputs,
    video_run,
)
from reelforge.kinds.talking import (
    PICTURES_DESCRIPTION,
    SIZES,
    STAGES,
    WORDS_PER_SECOND,
    Pictures,
    SpokenRequest,
    inspect,
    known_character,
    known_pictures,
)

OUTPUTS: Mapping[str, Output] = video_outputs("podcast")


class SpeakerSpec(BaseModel):
    """One speaker: the label used in the dialogue and who they are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z][\w .'-]*$",
        description="as the dialogue's lines start (HOST: ...)",
    )
    name: str | None = Field(None, max_length=40, description="shown in the lower third")
    role: str | None = Field(None, max_length=60, description="shown under the name")
    voice: str | None = Field(
        None, max_length=64, description="see GET /api/voices; none: the character's own"
    )
    character: str | None = Field(
        None, max_length=40, description="a built-in character (GET /api/characters)"
    )
    portrait: Pictures = Field(
        None, description=PICTURES_DESCRIPTION.format(turns="speaker's turns")
    )

    _known_character = field_validator("character")(known_character)
    _known_pictures = field_validator("portrait", mode="before")(known_pictures)

    @model_validator(mode="after")
    def _one_look(self) -> SpeakerSpec:
        if self.character and self.portrait:
            raise ValueError(f"{self.label}: give a portrait or a character, not both")
        return self


class PodcastRequest(SpokenRequest):
    """A dialogue (``HOST: ...`` lines) and how to show it."""

    dialogue: str = Field(min_length=1, max_length=40_000, description="'LABEL: words' lines")
    speakers: tuple[SpeakerSpec, ...] = Field(
        (),
        max_length=4,
        description="who says the dialogue's lines, by label; none: chosen for each label",
        examples=[[{"label": "HOST"}, {"label": "GUEST"}]],
    )
    layout: Literal["split", "60-40", "host-guest", "pip", "interview", "round-table"] = "split"
    format: Literal["16:9", "9:16", "1:1"] = "16:9"
    waveform: bool = False
    overlap_ms: int = Field(0, ge=0, le=2000, description="a new speaker starts this early")
    reactions: bool = Field(False, description="listeners say short back-channels (mm-hm)")

    @model_validator(mode="after")
    def _dialogue_parses(self) -> PodcastRequest:
        from reelforge.errors import SpecError
        from reelforge.talking.podcast import dialogue_from_fields

        try:
            dialogue_from_fields(
                {"dialogue": self.dialogue, "speakers": [s.model_dump() for s in self.speakers]}
            )
        except SpecError as exc:
            raise ValueError(f"{exc.message} ({exc.hint})") from None
        return self


def workload(request: PodcastRequest) -> Workload:
    width, height = SIZES[request.format]
    pixels = 1.0 if request.preview else width * height / (1920 * 1080)
    seconds = len(request.dialogue.split()) / WORDS_PER_SECOND / request.speed
    turns = max(1, request.dialogue.count(":"))
    return Workload(seconds=seconds + 0.4 * turns + 1.0, pixels=pixels, parts=turns)


def media_fields(request: PodcastRequest) -> Iterator[MediaField]:
    for k, speaker in enumerate(request.speakers):
        yield from media_items(f"speakers.{k}.portrait", speaker.portrait, ("image",))


def with_media(request: PodcastRequest, rename: Rename) -> PodcastRequest:
    speakers = tuple(
        s.model_copy(update={"portrait": renamed_media(s.portrait, rename)}) if s.portrait else s
        for s in request.speakers
    )
    return request.model_copy(update={"speakers": speakers})


run = video_run("make_podcast", "dialogue", OUTPUTS)

PODCAST = JobKind(
    "podcast", PodcastRequest, run, OUTPUTS, workload, media_fields, with_media, STAGES, inspect
)

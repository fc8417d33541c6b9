"""Job kinds: what reelforge makes, by name, and the one contract every kind follows.

A kind is a frozen :class:`JobKind` value in its own module; :data:`KINDS` maps names to
``"module:attribute"`` strings, imported on first use (like the engine registry), so listing the
kinds loads no renderer. The command line, the service's workers, its download endpoint and the
manifest all read a kind's outputs from :attr:`JobKind.outputs` alone.

Adding a kind is one module and one line here::

    KINDS["clips"] = "reelforge.kinds.clips:CLIPS"

The service needs no other change: it stores the kind's request, prices it from its workload,
runs it in a work folder of its own, uploads the files its result names and serves them by the
download names of its output table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from reelforge.errors import JobError

KINDS: dict[str, str] = {
    "video": "reelforge.kinds.video:VIDEO",
    "talking": "reelforge.kinds.talking:TALKING",
    "podcast": "reelforge.kinds.podcast:PODCAST",
    "clips": "reelforge.kinds.clips:CLIPS",
}
"""Kind name -> ``"module:attribute"`` of its :class:`JobKind`."""

Progress = Callable[[str, float], None]
"""Called with a stage name of the kind (see :attr:`JobKind.stages`) and its progress in [0, 1]."""

Rename = Callable[[str], str]


class JobRequest(BaseModel):
    """What every kind's request has: a queue (the hardware) and the preview choice. Kinds
    subclass it with their own fields; requests are validated and frozen."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    queue: Literal["cpu", "gpu"] = "cpu"
    preview: bool = False

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The kind's own fields first: forms built from the schema (the web studio's) ask
        what to make before where to run it."""
        json_schema = handler(schema)
        properties = handler.resolve_ref_schema(json_schema).get("properties", {})
        for name in ("queue", "preview"):
            if name in properties:
                properties[name] = properties.pop(name)
        return json_schema


def verb_options(request: JobRequest, *passed: str) -> dict[str, Any]:
    """The fields of ``request`` as the keyword arguments of the library verb that runs it: all
    but ``queue`` (where it runs) and the fields ``passed`` positionally. A kind whose request
    fields are named as its verb's keywords runs ``verb(request.x, out, **verb_options(request,
    "x"))``; a field the verb does not take fails every run (TypeError), so tests see it."""
    return request.model_dump(exclude={"queue", *passed})


@dataclass(frozen=True)
class Output:
    """One output of a kind: its file name in the job's folder, its media type, the name it is
    downloaded by, whether every run writes it, and whether it may name server paths (the
    service rewrites those before anyone sees the file)."""

    file: str
    content_type: str
    download: str
    required: bool = True
    names_paths: bool = False

    @property
    def suffix(self) -> str:
        """The file name after its stem (``srt``, ``words.json``): sidecars share the stem."""
        return self.file.split(".", 1)[1]


SUMMARY_MAX_BYTES = 64 * 1024
"""The largest :attr:`KindResult.summary`, as compact JSON."""


@dataclass(frozen=True)
class KindResult:
    """What a run made: output name -> file in the work folder; notes on what it could not do;
    and an optional ``summary`` of the result that a job shows beside its downloads.

    ``summary`` is JSON (at most :data:`SUMMARY_MAX_BYTES`), never server paths. Any object in
    it with an ``"outputs"`` mapping (label -> result name, e.g. ``{"video": "clip-1"}``) is shown
    by the service with ``"files"`` and ``"signed"`` links to those downloads instead."""

    files: Mapping[str, Path]
    notes: tuple[str, ...] = ()
    summary: Mapping[str, Any] | None = None


def video_outputs(stem: str) -> dict[str, Output]:
    """The output table of a kind that writes one video with SRT and VTT captions, a thumbnail
    and a manifest, all named ``stem`` (the talking and podcast kinds)."""
    return {
        "video": Output(f"{stem}.mp4", "video/mp4", "video"),
        "srt": Output(f"{stem}.srt", "application/x-subrip", "captions.srt", required=False),
        "vtt": Output(f"{stem}.vtt", "text/vtt", "captions.vtt", required=False),
        "thumbnail": Output(f"{stem}.jpg", "image/jpeg", "thumbnail"),
        "manifest": Output(f"{stem}.json", "application/json", "manifest"),
    }


@dataclass(frozen=True)
class VideoFiles:
    """The files a verb that makes a video writes: the base of ``MakeResult`` and
    ``TalkingResult``, which add how the run went."""

    video: Path
    captions: dict[str, Path]  # format ("srt", "vtt", ...) -> sidecar file
    thumbnail: Path
    manifest: Path


class MadeVideo(Protocol):
    """What a library verb that makes a video returns (``MakeResult``, ``TalkingResult``)."""

    @property
    def video(self) -> Path: ...
    @property
    def captions(self) -> Mapping[str, Path]: ...
    @property
    def thumbnail(self) -> Path: ...
    @property
    def manifest(self) -> Path: ...
    @property
    def notes(self) -> Sequence[str]: ...


def video_result(made: MadeVideo, outputs: Mapping[str, Output]) -> KindResult:
    """The result of a run that made ``made``: its video, the captions ``outputs`` names, its
    thumbnail and manifest."""
    files = {"video": Path(made.video)}
    files.update({name: Path(path) for name, path in made.captions.items() if name in outputs})
    files["thumbnail"] = Path(made.thumbnail)
    files["manifest"] = Path(made.manifest)
    return KindResult(files, tuple(made.notes))


def video_run(verb: str, passed: str, outputs: Mapping[str, Output]) -> Runner:
    """The run of a kind whose front-door verb ``reelforge.<verb>`` makes one video from the
    request field ``passed`` and takes the other fields as keywords (the talking and podcast
    kinds): it writes ``outputs["video"]`` with its sidecars, working in ``workdir/work``."""

    def run(
        request: Any, workdir: Path, progress: Progress, *, cache_dir: Path | None = None
    ) -> KindResult:
        import reelforge

        made = getattr(reelforge, verb)(
            getattr(request, passed),
            workdir / outputs["video"].file,
            **verb_options(request, passed),
            workdir=workdir / "work",
            progress=progress,
        )
        return video_result(made, outputs)

    return run


@dataclass(frozen=True)
class Workload:
    """What a request asks of the machine, estimated before it runs: seconds of output, the
    share of a 1080p frame it renders, and how many parts (scenes) it has. The service prices
    and admits jobs from this alone."""

    seconds: float
    pixels: float = 1.0
    parts: int = 1


@dataclass(frozen=True)
class MediaField:
    """A file a request names: where (``scenes.0.visual.path``), the value, and the media
    kinds it may be (``image``, ``audio``, ``video``; empty: no upload can fill it)."""

    field: str
    value: str
    kinds: tuple[str, ...]


MediaValue = str | tuple[str, ...] | None
"""A request field naming files: one, several (``portrait: [media:a, media:b]``) or none."""


def media_items(name: str, value: MediaValue, media_kinds: tuple[str, ...]) -> list[MediaField]:
    """The files field ``name`` holds: ``name`` for one, ``name.0``, ``name.1``... for
    several."""
    if not value:
        return []
    if isinstance(value, str):
        return [MediaField(name, value, media_kinds)]
    return [MediaField(f"{name}.{k}", item, media_kinds) for k, item in enumerate(value)]


def renamed_media(value: str | tuple[str, ...], rename: Rename) -> str | tuple[str, ...]:
    """``value`` (one file or several) with each file renamed."""
    return rename(value) if isinstance(value, str) else tuple(rename(item) for item in value)


def field_media(
    name: str, media_kinds: tuple[str, ...]
) -> tuple[Callable[[Any], Iterable[MediaField]], Callable[[Any, Rename], Any]]:
    """``(media, with_media)`` of a kind whose files are its request's field ``name`` (one
    file of ``media_kinds`` or several; an empty field names none): the clips' video, the
    portraits."""

    def media(request: Any) -> Iterable[MediaField]:
        return media_items(name, getattr(request, name), media_kinds)

    def with_media(request: Any, rename: Rename) -> Any:
        value = getattr(request, name)
        return request.model_copy(update={name: renamed_media(value, rename)}) if value else request

    return media, with_media


@dataclass(frozen=True)
class Stage:
    """Where a progress stage of a kind sits in a job: planning (``processing``) or
    ``rendering``, and its share ``[start, end)`` of that job stage."""

    job_stage: Literal["processing", "rendering"]
    start: float = 0.0
    end: float = 1.0


class Runner(Protocol):
    def __call__(
        self, request: Any, workdir: Path, progress: Progress, *, cache_dir: Path | None = None
    ) -> KindResult:
        """Make the kind's outputs inside ``workdir``; ``cache_dir`` is a step cache shared by
        runs (voices, music), ``None`` for the library's default."""
        ...


def _no_media(request: Any) -> Iterable[MediaField]:
    return ()


def _same(request: Any, rename: Rename) -> Any:
    return request


@dataclass(frozen=True)
class JobKind:
    """One kind of job. ``request`` is its request model (a :class:`JobRequest`); ``run`` makes
    it; ``outputs`` maps result names to :class:`Output`; ``workload`` estimates its cost;
    ``media`` lists the files a request names and ``with_media`` returns the request with each
    renamed (uploads to local copies, or to content hashes for the cache key); ``inspect``
    looks into each uploaded file before the job is queued (a portrait's faces) and raises a
    SpecError for one the kind would refuse when it runs."""

    name: str
    request: type[JobRequest]
    run: Runner
    outputs: Mapping[str, Output]
    workload: Callable[[Any], Workload]
    media: Callable[[Any], Iterable[MediaField]] = _no_media
    with_media: Callable[[Any, Rename], Any] = _same
    stages: Mapping[str, Stage] = field(default_factory=dict)
    inspect: Callable[[Path], None] | None = None

    def stage(self, name: str) -> Stage:
        """Where progress stage ``name`` sits; an unknown stage counts as rendering."""
        return self.stages.get(name) or Stage("rendering")

    def downloads(self, results: Iterable[str]) -> list[str]:
        """The download names of the outputs among ``results`` (a finished job's result
        names), in the order of the output table."""
        present = set(results)
        return [output.download for name, output in self.outputs.items() if name in present]

    def output_named(self, download: str) -> tuple[str, Output] | None:
        """``(result name, output)`` of the output downloaded as ``download``, or None."""
        for name, output in self.outputs.items():
            if output.download == download:
                return name, output
        return None


_loaded: dict[str, JobKind] = {}


def names() -> list[str]:
    """The kinds this installation knows."""
    return list(KINDS)


def get(name: str) -> JobKind:
    """The kind called ``name``, importing its module on first use."""
    if name in _loaded:
        return _loaded[name]
    try:
        target = KINDS[name]
    except KeyError:
        raise JobError(
            f"unknown job kind {name!r}", hint="known kinds: " + ", ".join(KINDS)
        ) from None
    module_name, _, attribute = target.partition(":")
    kind = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(kind, JobKind) or kind.name != name:
        raise JobError(
            f"{target} is not the job kind {name!r}", hint="KINDS maps a name to its JobKind"
        )
    _loaded[name] = kind
    return kind


def register(name: str, target: str) -> None:
    """Add or replace a kind: ``"module:attribute"`` of its :class:`JobKind`."""
    KINDS[name] = target
    _loaded.pop(name, None)


def unregister(name: str) -> None:
    """Forget a kind (tests that registered one)."""
    KINDS.pop(name, None)
    _loaded.pop(name, None)

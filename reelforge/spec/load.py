"""Storyboard files -> :class:`Storyboard`, with media paths made absolute and checked.

``.md``/``.markdown``/``.txt`` scripts go through :func:`storyboard_from_text`; ``.yaml``/``.yml``
/``.json`` are storyboards. Command-line flags override the file. Every problem becomes a
:class:`SpecError` (bad syntax, bad field, unknown template) or a :class:`MediaError` (a picture,
sound or caption file that is not there), each with a hint.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from reelforge.errors import MediaError, SpecError
from reelforge.spec.model import Storyboard
from reelforge.spec.nesting import check_json_nesting
from reelforge.spec.parse import (
    build_storyboard,
    parse_yaml,
    storyboard_from_text,
    yaml_error_location,
)
from reelforge.spec.templates import TEMPLATES

SCRIPT_SUFFIXES = (".md", ".markdown", ".txt")
STORYBOARD_SUFFIXES = (".yaml", ".yml", ".json")


def load_spec(path: str | Path, **overrides: Any) -> Storyboard:
    """Read a script or storyboard file; ``overrides`` (non-``None`` only) win over the file.

    Overrides are storyboard fields: ``format``, ``template``, ``voice``, ``language``,
    ``music``, ``max_scenes``, ``target_duration``, ``resolution``... Relative media paths are
    resolved against the file's folder, and every referenced file must exist.
    """
    file = Path(path).expanduser()
    suffix = file.suffix.lower()
    if suffix not in SCRIPT_SUFFIXES + STORYBOARD_SUFFIXES:
        raise SpecError(
            f"{file}: unsupported file type {suffix or '(none)'!r}",
            hint="give a script ("
            + ", ".join(SCRIPT_SUFFIXES)
            + ") or a storyboard ("
            + ", ".join(STORYBOARD_SUFFIXES)
            + ")",
        )
    if not file.is_file():
        raise SpecError(
            f"storyboard file not found: {file}",
            hint="check the path; it is relative to the current folder " + str(Path.cwd()),
        )
    try:
        text = file.read_text(encoding="utf-8-sig")  # -sig: Windows editors prepend a BOM
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{file} is not UTF-8 text (byte {exc.start})",
            hint="save the file as UTF-8 in your editor",
        ) from None
    given = {key: value for key, value in overrides.items() if value is not None}
    # A file named on the command line (``--music song.mp3``) is relative to where the user
    # is, not to the storyboard's folder like the paths written inside the file.
    for key in ("music", "watermark"):
        value = given.get(key)
        if isinstance(value, str) and "://" not in value and Path(value).expanduser().is_file():
            given[key] = str(Path(value).expanduser().resolve())
    for key in ("library", "voice_like"):  # --library, --voice-like: relative to the user
        if isinstance(given.get(key), str):
            given[key] = str(Path(given[key]).expanduser().resolve())

    if suffix in SCRIPT_SUFFIXES:
        board = storyboard_from_text(text, source=str(file), **given)
    else:
        data = _read_storyboard(text, file, suffix)
        board = build_storyboard({**data, **given}, source=str(file))
    return resolve_paths(board, file.parent)


def _read_storyboard(text: str, file: Path, suffix: str) -> dict[str, Any]:
    return read_storyboard_text(text, "json" if suffix == ".json" else "yaml", str(file))


def read_storyboard_text(
    text: str, syntax: str = "yaml", source: str = "the storyboard", *, aliases: bool = True
) -> dict[str, Any]:
    """The fields of a storyboard written as ``syntax`` ("yaml" or "json") text, before any
    validation: syntax, nesting (at most 32 levels) and shape checked, each problem a SpecError
    naming ``source`` and the line. ``aliases=False`` refuses YAML anchors and aliases (text from
    a network: a few lines of aliases can stand for billions of values)."""
    if syntax == "json":
        check_json_nesting(text, source)  # json.loads recurses once per level
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}",
                hint=exc.msg,
            ) from None
    elif syntax == "yaml":
        try:
            if not aliases:
                _refuse_aliases(text, source)
            data = parse_yaml(text)
        except yaml.YAMLError as exc:
            where = yaml_error_location(exc)
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError(
                f"{source}: invalid YAML{where}",
                hint=f"{problem}; check the indentation and quote text containing ': ' or '#'",
            ) from None
    else:
        raise SpecError(f"unknown storyboard syntax {syntax!r}", hint="yaml or json")
    if data is None:
        raise SpecError(f"{source}: the storyboard is empty", hint="add at least 'scenes:'")
    if isinstance(data, list):
        return {"scenes": data}  # a bare list of scenes is a storyboard with defaults
    if not isinstance(data, dict):
        raise SpecError(
            f"{source}: a storyboard must be a mapping of fields",
            hint="start with 'title:' and 'scenes:' lines; see examples/README.md",
        )
    return data


def _refuse_aliases(text: str, source: str) -> None:
    """SpecError at the first YAML anchor or alias (read as events: nothing is built)."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            line = event.start_mark.line + 1 if event.start_mark else 0
            raise SpecError(
                f"{source}: YAML anchors and aliases ('&name', '*name') are not accepted here "
                f"(line {line})",
                hint="write each scene's fields out in full",
            )


def resolve_paths(board: Storyboard, base: str | Path) -> Storyboard:
    """``board`` with every media path absolute (relative ones joined to ``base``) and checked.

    Raises :class:`MediaError` naming the field (and scene, counted from 1) of a missing file.
    """
    folder = Path(base).expanduser().resolve()

    def check(value: str, what: str, field_path: str) -> str:
        if "://" in value:
            raise MediaError(
                f"{what}: {value} is a URL ({field_path})",
                hint="download the file and give its local path; reelforge works offline",
            )
        candidate = Path(value).expanduser()
        resolved = (candidate if candidate.is_absolute() else folder / candidate).resolve()
        if not resolved.is_file():
            state = "is a folder" if resolved.is_dir() else "not found"
            raise MediaError(
                f"{what}: {resolved} {state} ({field_path})",
                hint=f"check the file name; relative paths are relative to {folder}",
            )
        return str(resolved)

    scenes = []
    for number, scene in enumerate(board.scenes, start=1):
        visual = scene.visual
        if visual is not None and visual.path:
            kind = visual.type if visual.type in ("image", "video") else "visual"
            path = check(visual.path, f"scene {number} {kind}", f"scenes.{number - 1}.visual.path")
            scene = scene.model_copy(update={"visual": visual.model_copy(update={"path": path})})
        scenes.append(scene)
    update: dict[str, Any] = {"scenes": tuple(scenes)}
    if board.music.path:
        path = check(board.music.path, "music file", "music.path")
        update["music"] = board.music.model_copy(update={"path": path})
    if board.captions.file:
        path = check(board.captions.file, "captions file", "captions.file")
        update["captions"] = board.captions.model_copy(update={"file": path})
    if board.narration is not None:
        narration: dict[str, Any] = {
            "path": check(board.narration.path, "narration recording", "narration.path")
        }
        if board.narration.words:
            narration["words"] = check(board.narration.words, "word timings", "narration.words")
        update["narration"] = board.narration.model_copy(update=narration)
    if board.voice_like:
        update["voice_like"] = check(board.voice_like, "voice reference", "voice_like")
    if board.watermark is not None and board.watermark.path:
        path = check(board.watermark.path, "watermark image", "watermark.path")
        update["watermark"] = board.watermark.model_copy(update={"path": path})
    if board.character is not None and board.character.image:
        path = check(board.character.image, "character picture", "character.image")
        update["character"] = board.character.model_copy(update={"image": path})
    if board.library:
        library = Path(board.library).expanduser()
        library = (library if library.is_absolute() else folder / library).resolve()
        if not library.is_dir():
            raise MediaError(
                f"media library {library} {'is a file' if library.exists() else 'not found'}",
                hint=f"give a folder of your pictures and clips; relative to {folder}",
            )
        update["library"] = str(library)
    return board.model_copy(update=update)


def storyboard_schema() -> dict[str, Any]:
    """The JSON Schema of a storyboard file (``reelforge schema``)."""
    schema = Storyboard.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "reelforge storyboard"
    schema["description"] = (
        "A video as scenes of narration and pictures, with optional template, format, voice, "
        "music, captions and watermark. Shorthands: a scene may be a plain string (its "
        "narration); 'visual' a file name, a procedural style name or 'prompt: ...'; "
        "'transition' a kind name; 'music' a mood, an audio file or 'none'; 'captions' a style "
        "name or false; 'watermark' an image file or a text. Relative paths are relative to the "
        "storyboard file."
    )
    template = schema.get("properties", {}).get("template")
    if isinstance(template, dict):
        template["description"] = "A template name: " + ", ".join(TEMPLATES)
        template["examples"] = list(TEMPLATES)
    return schema

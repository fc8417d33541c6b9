"""``reelforge talk`` and ``reelforge podcast``: thin clients of the front door."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import reelforge
from reelforge.errors import SpecError

Handler = Callable[[argparse.Namespace], int]


def _add_film_options(parser: argparse.ArgumentParser, formats: list[str]) -> None:
    """The options a talking video and a podcast share (the first format is the default)."""
    parser.add_argument("--format", default=formats[0], choices=formats)
    parser.add_argument("--language", default="en")
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--no-captions", dest="captions", action="store_false")
    parser.add_argument("--preview", action="store_true", help="a third of the size, fast")
    parser.add_argument("--background", default="studio", choices=["studio", "animated"])


def add_talking_commands(subparsers: Any) -> dict[str, Handler]:
    """Add ``talk`` and ``podcast``; returns {command name: handler}."""
    talk = subparsers.add_parser(
        "talk",
        help="a lip-synced talking character (a photo or a built-in one) saying a script",
        description="reelforge talk [portrait.jpg] script.md -o out.mp4 [--character maya]",
    )
    talk.add_argument(
        "inputs",
        nargs="+",
        help="[portrait image ...] script (.txt, .md); several images of one character "
        "take the paragraphs in turn",
    )
    talk.add_argument("-o", "--output", help="output .mp4 (default: out/<script name>.mp4)")
    talk.add_argument("--character", help="a built-in character (see --list-characters)")
    talk.add_argument("--voice", help="voice id (see `reelforge voices`)")
    _add_film_options(talk, ["9:16", "16:9", "1:1"])

    podcast = subparsers.add_parser(
        "podcast",
        help="a podcast video of a HOST:/GUEST: dialogue, every speaker lip-synced",
        description="reelforge podcast episode.md -o ep1.mp4 --layout split",
    )
    podcast.add_argument("input", help="dialogue (.txt, .md) or storyboard (.yaml, .json)")
    podcast.add_argument("-o", "--output", help="output .mp4 (default: out/<input name>.mp4)")
    podcast.add_argument(
        "--layout",
        default="split",
        choices=["split", "60-40", "host-guest", "pip", "interview", "round-table"],
    )
    _add_film_options(podcast, ["16:9", "9:16", "1:1"])
    podcast.add_argument(
        "--waveform", action="store_true", help="each speaker's voice as bars in their panel"
    )
    podcast.add_argument(
        "--overlap-ms", type=int, default=0, help="a new speaker starts this early (0-2000)"
    )
    podcast.add_argument(
        "--reactions", action="store_true", help="listeners say short back-channels (mm-hm)"
    )

    characters = subparsers.add_parser("characters", help="list the built-in cast")
    characters.add_argument("--json", action="store_true")
    return {"talk": _cmd_talk, "podcast": _cmd_podcast, "characters": _cmd_characters}


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read {path}: {exc}", hint="give a UTF-8 text file") from None


def _report(result: reelforge.TalkingResult, started: float) -> None:
    from reelforge.cli import report_video

    report_video(result, result.duration_s, started)


def _cmd_talk(args: argparse.Namespace) -> int:
    if len(args.inputs) > 9:
        raise SpecError("too many inputs", hint="reelforge talk [portrait.jpg ...] script.md")
    photos = [Path(p) for p in args.inputs[:-1]]  # several: one character, many scenes
    portrait = photos if len(photos) > 1 else (photos[0] if photos else None)
    script = Path(args.inputs[-1])
    output = Path(args.output or Path("out") / (script.stem + ".mp4"))
    started = time.perf_counter()
    result = reelforge.make_talking(
        _read(script),
        output,
        _filming(args),
        character=args.character,
        portrait=portrait,
        voice=args.voice,
    )
    _report(result, started)
    return 0


def _filming(args: argparse.Namespace) -> reelforge.TalkingOptions:
    """How ``talk`` and ``podcast`` film: the options they share (:func:`_add_film_options`)."""
    from reelforge.cli import options_from

    return options_from(args, reelforge.TalkingOptions)


def _cmd_podcast(args: argparse.Namespace) -> int:
    source = Path(args.input)
    text = _read(source)
    dialogue: str | dict[str, Any] = text
    if source.suffix.lower() in (".yaml", ".yml", ".json"):
        import yaml

        loaded = json.loads(text) if source.suffix.lower() == ".json" else yaml.safe_load(text)
        if not isinstance(loaded, dict):
            raise SpecError(f"{source} is not a podcast storyboard", hint="speakers: and turns:")
        for speaker in loaded.get("speakers", []):  # portraits relative to the storyboard
            pictures = speaker.get("portrait") if isinstance(speaker, dict) else None
            if isinstance(pictures, str):
                speaker["portrait"] = str(source.parent / pictures)
            elif isinstance(pictures, list):  # several pictures of the speaker
                speaker["portrait"] = [str(source.parent / str(p)) for p in pictures]
        dialogue = loaded
    output = Path(args.output or Path("out") / (source.stem + ".mp4"))
    started = time.perf_counter()
    result = reelforge.make_podcast(
        dialogue,
        output,
        _filming(args),
        layout=args.layout,
        waveform=args.waveform,
        overlap_ms=args.overlap_ms,
        reactions=args.reactions,
    )
    _report(result, started)
    return 0


def _cmd_characters(args: argparse.Namespace) -> int:
    from reelforge.talking.cast import CAST, cast_list

    if args.json:
        print(json.dumps(cast_list(), indent=2))
        return 0
    for c in CAST.values():
        print(f"{c.name:8} {c.age:6} {c.gender:6} {c.voice:18} {c.description}")
    return 0

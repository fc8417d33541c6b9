"""The command line: a thin client of the library. Only here do errors become exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import reelforge
from reelforge import ReelforgeError, __version__

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from reelforge.kinds import MadeVideo

Options = TypeVar("Options", bound="DataclassInstance")

EXAMPLES = """examples:
  reelforge make examples/restaurant.md -o out/restaurant.mp4
  reelforge make story.txt --format 9:16 --voice en-adult-male --music cinematic -o short.mp4
  reelforge make examples/explainer.yaml --preview -o out/preview.mp4
  reelforge write "a 30-second promo for a couscous restaurant in Algiers" --language fr
  reelforge make --idea "a bedtime story about a brave little butterfly" --preview
  reelforge voices --language fr
  reelforge schema > storyboard.schema.json
  reelforge clips talk.mp4 -o out/talk/ --count 3 --format 1:1 --query pricing
  reelforge transcribe talk.mp4 -o talk.srt
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reelforge",
        description="Turn a script or storyboard into a narrated, captioned, scored video, "
        "offline.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"reelforge {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    make = sub.add_parser(
        "make",
        help="render a script (.txt/.md) or storyboard (.yaml/.json) to MP4",
        description="Render a script or storyboard to an MP4 with SRT/VTT/ASS captions, a "
        "thumbnail and a JSON manifest beside it (same folder and name).",
    )
    make.add_argument(
        "input", nargs="?", help="script (.txt, .md) or storyboard (.yaml, .yml, .json)"
    )
    make.add_argument("-o", "--output", help="output .mp4 (default: out/<input name>.mp4)")
    make.add_argument(
        "--idea", help="write the script from this idea first (saved beside the video as .md)"
    )
    make.add_argument("--writer", help="the writer engine for --idea (see `reelforge write`)")
    _spec_options(make)
    make.add_argument("--keep-work", action="store_true", help="keep the work folder")
    make.add_argument("--library", help="a folder of your pictures and clips to match to scenes")
    make.add_argument(
        "--stock",
        metavar="PROVIDER[:video]",
        help="stock pictures (or clips with ':video') for scenes without one: pexels or "
        "pixabay, with your key in REELFORGE_PEXELS_API_KEY / REELFORGE_PIXABAY_API_KEY",
    )
    make.add_argument(
        "--print-plan",
        action="store_true",
        help="print the compiled render plan instead of rendering",
    )
    make.add_argument("--quiet", action="store_true", help="no progress bar")

    render = sub.add_parser("render", help="render a timeline JSON (from a manifest or `plan`)")
    render.add_argument("timeline", help="timeline .json, or a manifest .json holding one")
    render.add_argument("-o", "--output", required=True, help="output .mp4")
    render.add_argument(
        "--print-plan",
        action="store_true",
        help="print the compiled render plan instead of rendering",
    )
    render.add_argument("--quiet", action="store_true")

    planp = sub.add_parser("plan", help="resolve a script/storyboard to a timeline JSON")
    planp.add_argument("input", help="script (.txt, .md) or storyboard (.yaml, .yml, .json)")
    planp.add_argument("-o", "--output", help="timeline .json (default: stdout)")
    _spec_options(planp)

    _add_write_command(sub)
    sub.add_parser("schema", help="print the storyboard JSON Schema")
    voices = sub.add_parser("voices", help="list voices")
    voices.add_argument("--language", help="only voices of this language (e.g. fr, ar, hi)")
    voices.add_argument("--json", action="store_true")
    templates = sub.add_parser("templates", help="list templates")
    templates.add_argument("--json", action="store_true")
    sub.add_parser("moods", help="list music moods")
    sub.add_parser("engines", help="list engines and whether they can run here")
    _add_clips_commands(sub)
    from reelforge.talking.cli import add_talking_commands  # talk, podcast, characters

    COMMANDS.update(add_talking_commands(sub))
    from reelforge.service.cli import add_service_commands  # serve, keys (imports nothing heavy)

    COMMANDS.update(add_service_commands(sub))
    from reelforge.service.worker_cli import add_worker_command  # worker (Celery, lazily)

    COMMANDS.update(add_worker_command(sub))
    return parser


def _add_clips_commands(sub: Any) -> None:
    listen = sub.add_parser(
        "transcribe",
        help="the speech of a video or sound file as SRT, VTT or JSON (Whisper, offline)",
    )
    listen.add_argument("input", help="a video or sound file")
    listen.add_argument("-o", "--output", help=".srt, .vtt or .json (default: print SRT)")
    listen.add_argument("--language", help="spoken language (default: detected)")
    listen.add_argument("--model", default="", help="tiny.en, base (default) or a model folder")
    listen.add_argument("--from", dest="start", help="start (seconds or mm:ss)")
    listen.add_argument("--to", dest="end", help="end (seconds or mm:ss)")

    clips = sub.add_parser(
        "clips",
        help="the best moments of a long video as captioned vertical clips",
        description="Transcribe a talk, pick its best moments (scores and reasons in "
        "clips.json), reframe them to follow the speaker and burn in captions.",
    )
    clips.add_argument("input", help="a video with speech (talk, podcast, interview)")
    clips.add_argument("-o", "--output", help="output folder (default: out/<input name>/)")
    clips.add_argument("--count", type=int, default=5, help="how many clips (default 5)")
    clips.add_argument("--format", default="9:16", choices=["9:16", "1:1", "4:5"])
    clips.add_argument("--min", dest="min_s", type=float, default=20.0, help="shortest, s")
    clips.add_argument("--max", dest="max_s", type=float, default=60.0, help="longest, s")
    clips.add_argument("--query", help="only moments about this topic")
    clips.add_argument("--from", dest="start", help="one clip of this span: start")
    clips.add_argument("--to", dest="end", help="... and end (seconds or mm:ss)")
    clips.add_argument("--captions", default="bold", help="plain, bold, karaoke, highlight, "
                       "boxed or none")  # fmt: skip
    clips.add_argument("--resolution", type=int, default=720, help="short side (default 720)")
    clips.add_argument("--language", help="spoken language (default: detected)")
    clips.add_argument("--model", default="", help="Whisper model: tiny.en, base or a folder")
    clips.add_argument("--no-llm", dest="llm", action="store_false",
                       help="do not ask the configured language model to rate moments")  # fmt: skip
    clips.add_argument("--quiet", action="store_true", help="no progress")


def _add_write_command(sub: Any) -> None:
    write = sub.add_parser(
        "write",
        help="write a script from an idea, notes or a voice note",
        description="Write a Markdown script (title, scenes, visual prompts) from an idea, "
        "notes or a voice note. With REELFORGE_LLM_ENDPOINT set, a language model writes it; "
        "offline, the rule-based writer drafts it from phrase templates.",
    )
    write.add_argument("idea", nargs="?", help="the idea, or '-' to read notes from stdin")
    write.add_argument(
        "-o", "--output", help=".md script, or .yaml/.json storyboard (default: print)"
    )
    write.add_argument("--language", help="language of the script (default: the idea's)")
    write.add_argument("--template", help="template whose tone to use (default: guessed)")
    write.add_argument("--seconds", type=float, help="length of the video (default: 30)")
    write.add_argument("--max-scenes", type=int, default=6, help="at most N scenes (default 6)")
    write.add_argument("--engine", help="rule-based or openai-compatible (default: by settings)")
    write.add_argument(
        "--from-audio", metavar="FILE", help="transcribe a voice note (offline) and write from it"
    )
    write.add_argument(
        "--from-image",
        metavar="FILE",
        help="write from what a picture shows (a BLIP captioning model: REELFORGE_CAPTION_MODEL); "
        "an idea given too says what to make of it",
    )


def _idea_from_args(args: argparse.Namespace) -> tuple[str, str | None]:
    """(idea text, language) from the command line, stdin or a transcribed voice note."""
    if getattr(args, "from_audio", None):
        if args.idea:
            raise reelforge.SpecError(
                "give an idea or --from-audio, not both",
                hint="the voice note's transcript is the idea",
            )
        heard = reelforge.transcribe(args.from_audio, language=args.language)
        if not heard.text.strip():
            raise reelforge.SpecError(
                f"no speech was heard in {args.from_audio}",
                hint="record the idea again closer to the microphone, or type it",
            )
        print(f"heard ({heard.language}): {heard.text}", file=sys.stderr)
        return heard.text, args.language or heard.language
    idea = args.idea
    if idea == "-":
        idea = sys.stdin.read()
    if getattr(args, "from_image", None):
        seen = reelforge.describe_image(args.from_image)
        print(f"seen: {seen}", file=sys.stderr)
        idea = f"{idea.strip()}. The picture shows: {seen}" if idea else seen
    if idea is None:
        raise reelforge.SpecError(
            "no idea given",
            hint='reelforge write "a 30-second promo for a bakery in Lyon", or --from-audio',
        )
    return idea, args.language


def _write(idea: str, **options: Any) -> reelforge.WrittenScript:
    """A storyboard written from ``idea`` (``options``: :func:`reelforge.write_script`'s
    keywords), and who wrote it said on stderr."""
    written = reelforge.write_script(idea, **options)
    model = f", {written.model}" if written.model else ""
    tries = f", {written.attempts} attempts" if written.attempts > 1 else ""
    print(
        f"written by the {written.engine} writer{model}{tries}: "
        f"{len(written.storyboard.scenes)} scenes",
        file=sys.stderr,
    )
    for note in written.notes:
        print(f"  note: {note}", file=sys.stderr)
    return written


def _cmd_write(args: argparse.Namespace) -> int:
    idea, language = _idea_from_args(args)
    written = _write(
        idea,
        language=language,
        template=args.template,
        seconds=args.seconds,
        engine=args.engine,
        max_scenes=args.max_scenes,
    )
    if args.output is None:
        print(written.markdown)
        return 0
    output = Path(args.output)
    suffix = output.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(written.fields, allow_unicode=True, sort_keys=False)
    elif suffix == ".json":
        text = json.dumps(written.fields, indent=2, ensure_ascii=False) + "\n"
    elif suffix in (".md", ".markdown", ".txt"):
        text = written.markdown
    else:
        raise reelforge.SpecError(
            f"cannot write a script as {suffix or 'a file without extension'!r}",
            hint="name it .md (a script) or .yaml/.json (a storyboard with visual prompts)",
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}; make it with: reelforge make {output}", file=sys.stderr)
    return 0


def options_from(args: argparse.Namespace, kind: type[Options], **given: Any) -> Options:
    """The options dataclass ``kind`` (:class:`reelforge.ClipOptions`, ...) from the parsed
    arguments named as its fields (the others keep their defaults); ``given`` sets fields the
    arguments name otherwise."""
    from dataclasses import fields

    named = {f.name for f in fields(kind)} - set(given)
    return kind(**{name: getattr(args, name) for name in named if hasattr(args, name)}, **given)


def _clock(text: str | None) -> float | None:
    """Seconds from ``75``, ``1:15`` or ``0:01:15.5``."""
    if text is None:
        return None
    try:
        seconds = 0.0
        for part in text.strip().split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        raise reelforge.SpecError(
            f"{text!r} is not a time", hint="write seconds (75) or minutes:seconds (1:15)"
        ) from None
    return seconds


def _cmd_transcribe(args: argparse.Namespace) -> int:
    start, end = _clock(args.start) or 0.0, _clock(args.end)
    found = reelforge.transcribe(
        args.input, args.output, language=args.language, model=args.model, start_s=start, end_s=end
    )
    if args.output is None:
        from reelforge.transcription import to_subtitles

        print(to_subtitles(found, "srt"), end="")
    else:
        print(f"wrote {args.output} ({found.language}, {len(found.words)} words)", file=sys.stderr)
    return 0


def _cmd_clips(args: argparse.Namespace) -> int:
    source = Path(args.input)
    output = Path(args.output) if args.output else Path("out") / source.stem
    shown = {"stage": ""}

    def progress(stage: str, fraction: float) -> None:
        if not args.quiet and stage != shown["stage"]:
            shown["stage"] = stage
            print(f"{stage}...", file=sys.stderr)

    options = options_from(
        args, reelforge.ClipOptions, start_s=_clock(args.start), end_s=_clock(args.end)
    )
    made = reelforge.extract_clips(source, output, options, progress=progress)
    for clip in made.clips:
        moment = clip.moment
        print(
            f"{clip.rank}. {clip.video}  {clip.start_ms / 1000:.1f}-{clip.end_ms / 1000:.1f} s  "
            f"score {moment.score:.0f}  {moment.title}"
        )
    for note in made.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"manifest: {made.manifest}", file=sys.stderr)
    return 0


def _spec_options(parser: argparse.ArgumentParser) -> None:
    """The storyboard overrides `make` and `plan` share."""
    parser.add_argument("--format", choices=["16:9", "9:16", "1:1"], help="aspect ratio")
    parser.add_argument("--template", help="look and sound preset (see `reelforge templates`)")
    parser.add_argument("--voice", help="voice id (see `reelforge voices`)")
    parser.add_argument(
        "--voice-like",
        metavar="RECORDING",
        help="5-30 s of a person speaking: the voice is moved toward it (F0, intonation, timbre)",
    )
    parser.add_argument("--language", help="narration language (default: detected per scene)")
    parser.add_argument("--music", help="music mood (see `reelforge moods`), a music file, or none")
    parser.add_argument(
        "--captions", help="caption style: plain, bold, karaoke, highlight, boxed, or none"
    )
    parser.add_argument("--max-scenes", type=int, help="merge scenes into at most N")
    parser.add_argument("--duration", type=float, help="target duration in seconds")
    parser.add_argument("--resolution", type=int, help="short side in pixels (default 1080)")
    parser.add_argument("--preview", action="store_true", help="fast low-resolution proof")
    parser.add_argument(
        "--translate",
        metavar="CODES",
        help="caption translations, e.g. fr,ar: video.fr.srt/.vtt and soft subtitle tracks "
        "(needs a translation engine: see README, Translation)",
    )


# --------------------------------------------------------------------------- progress


class _Bar:
    """A rich progress bar over the stages voice -> visuals -> music -> audio -> video."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet or not sys.stderr.isatty()
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Bar:
        if not self.quiet:
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description:>8}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def __call__(self, stage: str, fraction: float) -> None:
        if self.progress is None:
            return
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=1.0)
        self.progress.update(self.tasks[stage], completed=min(1.0, fraction))


# --------------------------------------------------------------------------- commands


def _load(args: argparse.Namespace) -> reelforge.Storyboard:
    overrides: dict[str, Any] = {
        "format": getattr(args, "format", None),
        "template": getattr(args, "template", None),
        "voice": getattr(args, "voice", None),
        "voice_like": getattr(args, "voice_like", None),
        "language": getattr(args, "language", None),
        "music": getattr(args, "music", None),
        "max_scenes": getattr(args, "max_scenes", None),
        "target_duration": getattr(args, "duration", None),
        "resolution": getattr(args, "resolution", None),
        "library": getattr(args, "library", None),
        "stock": _stock(getattr(args, "stock", None)),
        "translate": getattr(args, "translate", None),
    }
    captions = getattr(args, "captions", None)
    if captions is not None:
        overrides["captions"] = {"enabled": False} if captions == "none" else {"style": captions}
    return reelforge.load_spec(args.input, **{k: v for k, v in overrides.items() if v is not None})


def _stock(given: str | None) -> dict[str, str] | None:
    """``--stock pexels`` or ``--stock pixabay:video`` as the storyboard's stock field."""
    if not given:
        return None
    provider, _, kind = given.partition(":")
    return {"provider": provider, "kind": kind or "image"}


def _cmd_make(args: argparse.Namespace) -> int:
    if args.idea is not None:
        if args.input:
            raise reelforge.SpecError(
                "give a script or --idea, not both",
                hint='reelforge make script.md, or reelforge make --idea "..."',
            )
        written = _write(
            args.idea,
            language=args.language,
            template=args.template,
            seconds=args.duration,
            engine=args.writer,
        )
        output = Path(args.output or Path("out") / "idea.mp4")
        script = output.with_suffix(".md")
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(written.markdown, encoding="utf-8")
        print(f"wrote {script}", file=sys.stderr)
        args.input, args.output = str(script), str(output)
    elif not args.input:
        raise reelforge.SpecError(
            "no script given", hint='reelforge make script.md, or reelforge make --idea "..."'
        )
    storyboard = _load(args)
    output = Path(args.output or Path("out") / (Path(args.input).stem + ".mp4"))
    if args.print_plan:  # the plan `make` would run: planning decides every render choice
        work = output.parent / f".{output.stem}.work"
        planned = reelforge.plan_video(storyboard, work, preview=args.preview)
        print(reelforge.compile_timeline(planned.timeline, output, work).to_text())
        return 0
    started = time.perf_counter()
    with _Bar(args.quiet) as bar:
        result = reelforge.make(
            storyboard, output, preview=args.preview, progress=bar, keep_workdir=args.keep_work
        )
    report_video(result, result.timeline.frames / result.timeline.fps, started)
    if result.voice_match:
        from reelforge.voice_match import summary

        for match in result.voice_match:
            print(f"  {summary(match)}")
    return 0


def report_video(result: MadeVideo, seconds: float, started: float) -> None:
    """What ``make``, ``talk`` and ``podcast`` print: the files written, the speed, the notes
    (e.g. a target duration the narration could not fit)."""
    took = time.perf_counter() - started
    print(
        f"wrote {result.video} ({seconds:.1f} s video in {took:.1f} s, "
        f"{seconds / max(took, 1e-6):.1f}x real time)"
    )
    for kind, path in result.captions.items():
        print(f"  captions {kind}: {path}")
    print(f"  thumbnail: {result.thumbnail}\n  manifest:  {result.manifest}")
    for note in result.notes:
        print(f"  note: {note}")


def _cmd_render(args: argparse.Namespace) -> int:
    timeline = reelforge.load_timeline(args.timeline)
    if args.print_plan:
        output = Path(args.output)
        work = output.parent / f".{output.stem}.work"
        print(reelforge.compile_timeline(timeline, output, work).to_text())
        return 0
    with _Bar(args.quiet) as bar:
        reelforge.render_timeline(timeline, args.output, progress=bar)
    print(f"wrote {args.output}")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    storyboard = _load(args)
    out = Path(args.output) if args.output else None
    work = (out.parent if out else Path("out")) / ".plan.work"
    planned = reelforge.plan_video(storyboard, work, preview=args.preview)
    text = planned.timeline.to_json()
    if out:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(text)
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(reelforge.storyboard_schema(), indent=2, ensure_ascii=False))
    return 0


def _cmd_voices(args: argparse.Namespace) -> int:
    voices = reelforge.list_voices(args.language)
    if args.json:
        print(json.dumps([v.__dict__ for v in voices], indent=1, ensure_ascii=False))
        return 0
    for v in voices:
        print(f"{v.id:24} {v.language:5} {v.gender:7} {v.age:7} {v.engine:7} {v.description}")
    return 0


def _cmd_templates(args: argparse.Namespace) -> int:
    templates = reelforge.list_templates()
    if args.json:
        print(json.dumps([t.to_dict() for t in templates], indent=1, ensure_ascii=False))
        return 0
    for t in templates:
        print(f"{t.name:16} mood={t.music_mood:10} style={t.visual_style:10} {t.description}")
    return 0


def _cmd_moods(args: argparse.Namespace) -> int:
    for mood, description in reelforge.list_moods().items():
        print(f"{mood:12} {description}")
    return 0


def _cmd_engines(args: argparse.Namespace) -> int:
    for info in reelforge.list_engines():
        state = "ok" if info.available else f"unavailable: {info.reason}"
        licence = f" (licence: {info.licence})" if info.licence else ""
        print(f"{info.kind:8} {info.name:12} {info.version or '-':12} {state}{licence}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "make": _cmd_make,
    "render": _cmd_render,
    "plan": _cmd_plan,
    "schema": _cmd_schema,
    "voices": _cmd_voices,
    "templates": _cmd_templates,
    "moods": _cmd_moods,
    "engines": _cmd_engines,
    "transcribe": _cmd_transcribe,
    "write": _cmd_write,
    "clips": _cmd_clips,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    from reelforge.settings import get_settings

    debug = args.debug or get_settings().debug
    try:
        return COMMANDS[args.command](args)
    except ReelforgeError as exc:
        if debug:
            raise
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`reelforge voices | head`): not an error; keep Python from
        # complaining again when it flushes stdout on exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        if debug:
            raise
        hint = "free disk space" if exc.errno == 28 else "check the path and its permissions"
        print(f"error: {exc}\n  hint: {hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""A media file's speech as timed words: decode its audio, run an ASR engine, write SRT, VTT
or JSON. The front door's ``transcribe`` verb and the clips job both come through here."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from reelforge.engines.base import Transcript, TranscriptionRequest, TranscriptSegment, Word
from reelforge.errors import MediaError, SpecError

FORMATS = ("srt", "vtt", "json")


def transcribe_file(
    source: Path,
    workdir: Path,
    *,
    language: str | None = None,
    model: str = "",
    engine: str = "whisper",
    start_s: float = 0.0,
    end_s: float | None = None,
) -> Transcript:
    """The speech of ``source`` (``start_s``..``end_s``; times stay those of the source).

    MediaError when it has no audio or is silent."""
    from reelforge.engines import registry
    from reelforge.media.speech import check_not_silent, extract_speech
    from reelforge.settings import get_settings

    workdir.mkdir(parents=True, exist_ok=True)
    wav = extract_speech(source, workdir / "speech.wav", start_s=start_s, end_s=end_s)
    check_not_silent(wav, source)
    request = TranscriptionRequest(wav, language=language, model=model or get_settings().asr_model)
    found = registry.get("asr", engine).transcribe(request, workdir)
    return shifted(found, round(start_s * 1000)) if start_s > 0 else found


def shifted(transcript: Transcript, offset_ms: int) -> Transcript:
    """``transcript`` with every time moved by ``offset_ms``."""

    def word(w: Word) -> Word:
        return w.shifted(offset_ms)

    segments = tuple(
        TranscriptSegment(
            s.text, s.start_ms + offset_ms, s.end_ms + offset_ms, tuple(map(word, s.words))
        )
        for s in transcript.segments
    )
    from dataclasses import replace

    return replace(transcript, segments=segments, duration_ms=transcript.duration_ms + offset_ms)


def require_speech(transcript: Transcript, source: Path) -> None:
    if not transcript.words:
        raise MediaError(
            f"no speech was found in {Path(source).name}",
            hint="the clips and transcripts need someone talking; check the audio track",
        )


def to_json(transcript: Transcript) -> str:
    """The transcript as JSON: language, segments and their words, times in seconds."""
    document = {
        "language": transcript.language,
        "language_probability": round(transcript.language_probability, 3),
        "duration": transcript.duration_ms / 1000,
        "engine": transcript.engine,
        "model": transcript.model,
        "text": transcript.text,
        "segments": [
            {
                "start": s.start_ms / 1000,
                "end": s.end_ms / 1000,
                "text": s.text,
                "words": [
                    {"text": w.text, "start": w.start_ms / 1000, "end": w.end_ms / 1000}
                    for w in s.words
                ],
            }
            for s in transcript.segments
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def to_subtitles(transcript: Transcript, format_name: str) -> str:
    """SRT or VTT: the words grouped into short caption lines."""
    from reelforge.captions import group_words, to_srt, to_vtt
    from reelforge.timeline import TimedWord

    words = [TimedWord(w.text, w.start_ms, w.end_ms) for w in transcript.words]
    lines = group_words(words, transcript.language)
    return to_srt(lines) if format_name == "srt" else to_vtt(lines)


def output_format(output: Path, format_name: str | None = None) -> str:
    chosen = (format_name or output.suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        raise SpecError(
            f"cannot write a transcript as {chosen or 'a file without extension'!r}",
            hint="name the output .srt, .vtt or .json (or pass the format)",
        )
    return chosen


def write_transcript(transcript: Transcript, output: Path, format_name: str | None = None) -> Path:
    chosen = output_format(output, format_name)
    text = to_json(transcript) if chosen == "json" else to_subtitles(transcript, chosen)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=output.parent, delete=False, suffix=".partial"
    ) as handle:
        handle.write(text)
    Path(handle.name).replace(output)
    return output

"""Audio for listening machines: a media file's first audio track as 16 kHz mono 16-bit wav
(what Whisper hears, 32 KB a second: a 3-hour talk is 350 MB on disk, never in memory), and its
loudness envelope (RMS per frame) read back in bounded pieces."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from reelforge.errors import MediaError, RenderError
from reelforge.media.ffmpeg import atomic_output, run_ffmpeg
from reelforge.media.probe import MediaInfo, check_audio

SPEECH_RATE = 16_000
TRUNCATED_S = 1.0  # sound this much shorter than the header promises (and 5%): truncated


def extract_speech(
    source: Path, output: Path, *, start_s: float = 0.0, end_s: float | None = None
) -> Path:
    """Write ``source``'s first audio track (``start_s``..``end_s``) to ``output`` as 16 kHz
    mono s16 wav. MediaError when it has no audio."""
    info = check_audio(Path(source))
    args = []
    if start_s > 0:
        args += ["-ss", f"{start_s:.3f}"]
    args += ["-i", str(source)]
    if end_s is not None:
        args += ["-t", f"{max(0.0, end_s - start_s):.3f}"]
    args += ["-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SPEECH_RATE), "-c:a", "pcm_s16le"]
    total = (end_s or info.duration_ms / 1000) - start_s
    with atomic_output(Path(output)) as partial:
        try:
            run_ffmpeg(["-y", *args, "-f", "wav", str(partial)], total_ms=int(total * 1000))
        except RenderError as error:
            raise MediaError(
                f"the audio of {Path(source).name} could not be decoded: {error.message}",
                hint="the file is corrupt or truncated; re-export it",
            ) from error
        _check_complete(partial, info, source, start_s, end_s)
    return Path(output)


def _check_complete(
    wav: Path, info: MediaInfo, source: Path, start_s: float, end_s: float | None
) -> None:
    """MediaError when the sound stops well before the file says its audio track ends: a
    truncated file (an upload cut short keeps the header that promises the whole)."""
    promised_ms = info.audio_duration_ms or info.duration_ms
    wanted_s = min(end_s if end_s is not None else math.inf, promised_ms / 1000) - start_s
    with wave.open(str(wav), "rb") as reader:
        heard_s = reader.getnframes() / reader.getframerate()
    if wanted_s - heard_s > max(TRUNCATED_S, wanted_s * 0.05):
        raise MediaError(
            f"{Path(source).name} is truncated or damaged: its sound stops at "
            f"{start_s + heard_s:.1f} s of the {promised_ms / 1000:.1f} s its header promises",
            hint="re-export or upload the whole file again",
        )


def envelope(wav: Path, frame_s: float = 0.1) -> NDArray[np.float32]:
    """RMS (0..1 of full scale) of each ``frame_s`` of a 16-bit wav, read a minute at a time."""
    with wave.open(str(wav), "rb") as reader:
        rate, channels = reader.getframerate(), reader.getnchannels()
        frame = max(1, int(rate * frame_s))
        values: list[NDArray[np.float32]] = []
        block = frame * int(60 / frame_s)
        while True:
            raw = reader.readframes(block)
            if not raw:
                break
            data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
            if channels > 1:
                data = data.reshape(-1, channels).mean(axis=1)
            count = data.size // frame
            if count == 0:
                break
            values.append(np.sqrt(np.square(data[: count * frame].reshape(count, frame)).mean(1)))
    return np.concatenate(values) if values else np.zeros(0, np.float32)


def check_not_silent(wav: Path, source: Path, floor: float = 1e-3) -> NDArray[np.float32]:
    """The envelope of ``wav``; MediaError when the whole of it is silent."""
    levels = envelope(wav)
    if levels.size == 0 or float(levels.max()) < floor:
        raise MediaError(
            f"{Path(source).name} is silent: its audio track holds no sound",
            hint="give a recording with speech (check the microphone track was exported)",
        )
    return levels

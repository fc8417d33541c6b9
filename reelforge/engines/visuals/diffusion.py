"""What the generative visuals engines share (not an engine): loading a diffusers pipeline from
a local folder or the Hugging Face cache (never downloading), the device and dtype choice, the
output cache keyed by a hash of everything that decides a picture, and fitting a generated clip
to its scene's length.

The engines (:mod:`sd_image`, :mod:`svd_video`, :mod:`t2v_video`) each import this module and
never each other. torch and diffusers are imported inside the functions that need them, so the
module loads without the ``gen`` extra and an engine can say what to install.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from reelforge.engines.base import EngineInfo, VisualRequest
from reelforge.errors import EngineFailed, EngineUnavailable, SpecError

INSTALL_HINT = "install the generative extra: pip install 'reelforge[gen]'"
OUTPUT_FPS = 24  # fitted clips are written at this rate; the renderer resamples to the video's
MAX_SLOWDOWN = 2.0  # "auto" slows a clip by up to this much, then loops it back and forth
FIT_MODES = ("auto", "loop", "slow", "hold")
DTYPES = ("auto", "float16", "bfloat16", "float32")

Frames = NDArray[np.uint8]  # (frames, height, width, 3) RGB


@dataclass(frozen=True)
class GenSettings:
    """The generative settings of one run (from :mod:`reelforge.settings`)."""

    model: str
    setting: str  # the environment variable that names the model, for error messages
    device: str = "auto"
    dtype: str = "auto"
    offload: bool = False
    vae_tiling: bool = True
    steps: int = 0
    guidance: float | None = None
    size: int = 0
    frames: int = 0
    batch: int = 4
    threads: int = 0
    fit: str = "auto"
    cache_dir: Path | None = None


def settings_for(model_field: str) -> GenSettings:
    """The settings an engine whose model is ``Settings.<model_field>`` runs with."""
    from reelforge.settings import get_settings

    s = get_settings()
    return GenSettings(
        model=str(getattr(s, model_field)),
        setting=f"REELFORGE_{model_field.upper()}",
        device=s.gen_device,
        dtype=s.gen_dtype,
        offload=s.gen_offload,
        vae_tiling=s.gen_vae_tiling,
        steps=s.gen_steps,
        guidance=s.gen_guidance,
        size=s.gen_size,
        frames=s.gen_frames,
        batch=s.gen_batch,
        threads=s.gen_threads,
        fit=s.gen_fit,
        cache_dir=s.cache_dir / "gen",
    )


# --------------------------------------------------------------------------- torch and models


def require_torch() -> tuple[Any, Any]:
    """``(torch, diffusers)``, or ``EngineUnavailable`` with the install hint."""
    # Weights come from a folder or the cache only: the hub client must not try the network.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    try:
        import diffusers
        import torch
    except ImportError as exc:
        raise EngineUnavailable(
            f"the generative visuals need torch and diffusers ({exc})", hint=INSTALL_HINT
        ) from exc
    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()  # loading bars; reelforge reports progress
    try:
        import transformers

        transformers.utils.logging.set_verbosity_error()
        transformers.utils.logging.disable_progress_bar()
    except ImportError:
        pass  # pipelines without a text encoder (none of ours) run without it
    return torch, diffusers


def gen_version() -> str:
    """``diffusers X / torch Y`` without loading them when they are missing."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"diffusers {version('diffusers')} / torch {version('torch')}"
    except PackageNotFoundError as exc:
        raise EngineUnavailable(f"{exc.name} is not installed", hint=INSTALL_HINT) from exc


class DiffusionVisuals:
    """What every generative visuals engine is besides its verb: a pipeline cache, its
    availability, the styles it accepts and the checks made before loading a model. An engine
    subclasses it and says what it makes and from what."""

    name: ClassVar[str]
    model_setting: ClassVar[str]  # the Settings field naming the model
    output: ClassVar[str] = "picture"  # "picture" or "clip" (a clip needs a duration)
    animates_pictures: ClassVar[bool] = False  # a reference picture stands in for the prompt
    uses_reference: ClassVar[bool] = True  # reads the request's reference picture

    def __init__(self) -> None:
        self._pipelines = PipelineCache()

    def info(self) -> EngineInfo:
        try:
            # The model setting first: it is what a user must act on even with the extra
            # installed, and it can be checked without importing torch.
            model_folder(settings_for(self.model_setting))
            version = gen_version()
        except EngineUnavailable as exc:
            reason = f"{exc.message} ({exc.hint})"
            return EngineInfo(self.name, "visuals", "", available=False, reason=reason)
        return EngineInfo(self.name, "visuals", version)

    def styles(self) -> list[str]:
        """The procedural styles, accepted for storyboards written for the default engines;
        the generative engines draw from the prompt and ignore them."""
        from reelforge.engines.visuals.procedural_styles import STYLES

        return list(STYLES)

    def check_inputs(self, request: VisualRequest) -> None:
        request.check_size()
        if self.output == "clip" and request.duration_ms <= 0:
            raise SpecError("a generated clip needs a duration", hint="a reelforge bug")
        animated = self.animates_pictures and request.reference_image is not None
        if not animated and not request.prompt.strip():
            if self.animates_pictures:
                raise SpecError(
                    f"a generated {self.output} needs a picture or a prompt",
                    hint="give the scene narration, a prompt or a reference image",
                )
            raise SpecError(
                f"a generated {self.output} needs a prompt",
                hint="give the scene narration or a prompt",
            )
        reference = request.reference_image
        if self.uses_reference and reference is not None and not Path(reference).is_file():
            raise SpecError(
                f"the reference image {reference} does not exist",
                hint="give an existing picture file",
            )


def model_folder(
    settings: GenSettings, marker: str = "model_index.json", kind: str = "diffusers"
) -> Path:
    """The model's local folder: the setting itself, or a hub repo id resolved in the local
    Hugging Face cache. Never downloads. A folder must hold ``marker`` (a diffusers pipeline's
    model_index.json; a transformers model's config.json)."""
    name = settings.model.strip()
    if not name:
        raise EngineUnavailable(
            f"no model is configured ({settings.setting} is empty)",
            hint=f"set {settings.setting} to a local {kind} model folder (one holding "
            f"{marker}) or to a hub repo id already in the Hugging Face cache",
        )
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not (folder / marker).is_file():
            raise EngineUnavailable(
                f"{folder} is not a {kind} model folder (no {marker})",
                hint=f"point {settings.setting} at the folder that holds {marker}",
            )
        return folder
    if name.startswith(("/", ".", "~")) or name.count("/") != 1:
        raise EngineUnavailable(
            f"the model folder {name} does not exist",
            hint=f"set {settings.setting} to an existing {kind} model folder",
        )
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - every hub failure means "not in the cache"
        raise EngineUnavailable(
            f"the model {name!r} ({settings.setting}) is not in the local Hugging Face cache",
            hint="download it once on a connected machine (huggingface-cli download "
            f"{name}) or point {settings.setting} at a local folder",
        ) from exc


def pipeline_class_name(folder: Path) -> str:
    """The pipeline class the folder was saved from (``model_index.json``)."""
    try:
        return str(json.loads((folder / "model_index.json").read_text())["_class_name"])
    except (OSError, ValueError, KeyError) as exc:
        raise EngineUnavailable(
            f"{folder}/model_index.json cannot be read ({exc})",
            hint="the model folder is incomplete: copy it again",
        ) from exc


def device_of(settings: GenSettings, torch: Any) -> str:
    """``auto`` picks CUDA, then Apple's MPS, then the CPU."""
    wanted = settings.device.strip().lower() or "auto"
    if wanted == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        raise EngineUnavailable(
            f"REELFORGE_GEN_DEVICE is {wanted!r} but torch sees no CUDA device",
            hint="install a CUDA build of torch, or set REELFORGE_GEN_DEVICE=auto or cpu",
        )
    if wanted not in ("cpu", "mps") and not wanted.startswith("cuda"):
        raise SpecError(
            f"unknown REELFORGE_GEN_DEVICE {wanted!r}", hint="use auto, cuda, cuda:N, mps or cpu"
        )
    return wanted


def dtype_of(settings: GenSettings, device: str, torch: Any) -> Any:
    """``auto``: half precision on a GPU, full precision on the CPU (fp16 is slow there)."""
    name = settings.dtype.strip().lower() or "auto"
    if name not in DTYPES:
        raise SpecError(f"unknown REELFORGE_GEN_DTYPE {name!r}", hint=f"use one of {DTYPES}")
    if name == "auto":
        name = "float32" if device == "cpu" else "float16"
    return getattr(torch, name)


class PipelineCache:
    """Loaded pipelines by (class, folder, device, dtype), shared by one engine's calls."""

    def __init__(self) -> None:
        self._pipelines: dict[tuple[str, str, str, str, bool], Any] = {}
        self.lock = threading.Lock()  # one generation at a time per engine (memory)

    def get(self, loader: Any, folder: Path, settings: GenSettings) -> tuple[Any, str]:
        """The pipeline of ``folder`` built with ``loader.from_pretrained``, on its device."""
        torch, _ = require_torch()
        if settings.threads:
            torch.set_num_threads(settings.threads)
        device = device_of(settings, torch)
        dtype = dtype_of(settings, device, torch)
        key = (loader.__name__, str(folder), device, str(dtype), settings.offload)
        if key not in self._pipelines:
            try:
                pipe = loader.from_pretrained(
                    str(folder), local_files_only=True, **{_dtype_argument(): dtype}
                )
            except (OSError, ValueError, TypeError, RuntimeError) as exc:
                raise EngineFailed(
                    f"the model in {folder} could not be loaded as {loader.__name__}: {exc}",
                    hint=f"check that {settings.setting} names a complete model of that kind",
                ) from exc
            if settings.offload and device.startswith("cuda"):
                pipe.enable_model_cpu_offload()  # sub-models visit the GPU one at a time
            else:
                pipe = pipe.to(device)
            pipe.set_progress_bar_config(disable=True)
            self._pipelines[key] = pipe
        return self._pipelines[key], device


def _dtype_argument() -> str:
    """diffusers 0.42 renamed ``torch_dtype`` to ``dtype`` (the old name warns)."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("diffusers").split(".")[:2])
    return "dtype" if (major, minor) >= (0, 42) else "torch_dtype"


def enable_vae_tiling(pipe: Any, settings: GenSettings) -> None:
    """Decode tile by tile when asked and the pipeline's VAE can (memory, large outputs)."""
    if not settings.vae_tiling:
        return
    vae = getattr(pipe, "vae", None)
    if vae is not None and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()


def generators(torch: Any, device: str, seeds: Sequence[int]) -> list[Any]:
    """One seeded generator per picture, so a scene's picture does not depend on its batch.
    MPS generators are created on the CPU, as diffusers advises."""
    where = "cpu" if device == "mps" else device
    return [torch.Generator(device=where).manual_seed(int(seed)) for seed in seeds]


def generation_size(width: int, height: int, longest: int, multiple: int = 64) -> tuple[int, int]:
    """The generated picture's size: the output's aspect ratio with its longest side about
    ``longest``, both sides multiples of ``multiple`` (the renderer's cover-fit upscales)."""
    scale = longest / max(width, height)
    w = max(multiple, int(round(width * scale / multiple)) * multiple)
    h = max(multiple, int(round(height * scale / multiple)) * multiple)
    return w, h


def cover(image: Any, width: int, height: int) -> Any:
    """A PIL picture cropped at its centre to the aspect ratio of ``width`` x ``height`` and
    resized to it (a user's photo is never squashed)."""
    from PIL import Image

    scale = max(width / image.width, height / image.height)
    w, h = max(width, round(image.width * scale)), max(height, round(image.height * scale))
    resized = image.resize((w, h), Image.Resampling.LANCZOS)
    left, top = (w - width) // 2, (h - height) // 2
    return resized.crop((left, top, left + width, top + height))


# --------------------------------------------------------------------------- cache


def cache_key(*parts: object) -> str:
    """A hash of everything that decides a generated output (model, prompt, seed, size...)."""
    text = json.dumps([str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def file_digest(path: Path | None) -> str:
    if path is None:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def cache_folder(settings: GenSettings, workdir: Path) -> Path:
    folder = settings.cache_dir if settings.cache_dir is not None else workdir / "gen-cache"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_frames(frames: Frames, folder: Path) -> None:
    """Keep generated frames losslessly as PNGs, written aside then moved into place."""
    from PIL import Image

    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    for k, frame in enumerate(frames):
        Image.fromarray(frame).save(partial / f"{k:04d}.png")
    os.replace(partial, folder)


def load_frames(folder: Path) -> Frames | None:
    from PIL import Image

    names = sorted(folder.glob("*.png")) if folder.is_dir() else []
    if not names:
        return None
    frames: Frames = np.stack(
        [np.asarray(Image.open(n).convert("RGB"), dtype=np.uint8) for n in names]
    )
    return frames


def as_uint8(frames: Any) -> Frames:
    """diffusers' ``output_type="np"`` floats in 0..1 to uint8 RGB."""
    array = np.asarray(frames, dtype=np.float32)
    if not np.isfinite(array).all():
        raise EngineFailed(
            "the model produced NaN or infinite pixels",
            hint="float16 overflowed: set REELFORGE_GEN_DTYPE=float32 or bfloat16",
        )
    pixels: Frames = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
    return pixels


# --------------------------------------------------------------------------- clips


def fit_positions(
    source_frames: int, source_fps: float, duration_ms: int, mode: str
) -> list[float]:
    """For each output frame (at ``OUTPUT_FPS`` over ``duration_ms``), the position in the
    source clip to show (fractional: neighbours are blended).

    ``slow`` stretches the clip over the scene; ``loop`` plays it back and forth (no jump);
    ``hold`` plays it once then holds the last frame; ``auto`` slows it by up to
    ``MAX_SLOWDOWN`` and then plays it back and forth.
    """
    if mode not in FIT_MODES:
        raise SpecError(f"unknown REELFORGE_GEN_FIT {mode!r}", hint=f"use one of {FIT_MODES}")
    count = max(1, math.ceil(duration_ms * OUTPUT_FPS / 1000))
    last = source_frames - 1
    if last <= 0:
        return [0.0] * count
    natural_s = source_frames / source_fps
    wanted_s = duration_ms / 1000
    speed = 1.0  # source seconds per output second
    if mode == "slow" or (mode == "auto" and wanted_s > natural_s):
        stretch = (
            wanted_s / natural_s if mode == "slow" else min(MAX_SLOWDOWN, wanted_s / natural_s)
        )
        speed = 1.0 / max(stretch, 1e-6) if wanted_s > natural_s else 1.0
    positions = []
    for i in range(count):
        p = i / OUTPUT_FPS * source_fps * speed
        if mode == "hold" or mode == "slow":
            p = min(p, float(last))
        else:  # back and forth: 0 .. last .. 0 ..
            period = 2 * last
            p = p % period
            p = p if p <= last else period - p
        positions.append(p)
    return positions


def fitted_frames(frames: Frames, positions: Sequence[float]) -> Frames:
    """The frames at ``positions``, blending the two nearest source frames."""
    out = np.empty((len(positions), *frames.shape[1:]), dtype=np.uint8)
    for i, p in enumerate(positions):
        lower = int(math.floor(p))
        upper = min(lower + 1, len(frames) - 1)
        t = p - lower
        if t < 1e-3 or upper == lower:
            out[i] = frames[lower]
        else:
            mixed = frames[lower].astype(np.float32) * (1 - t) + frames[upper] * t
            out[i] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


def write_clip(frames: Frames, path: Path) -> Path:
    """Encode RGB frames at ``OUTPUT_FPS`` into an MP4 (lossless enough: x264 crf 12), through
    reelforge's one ffmpeg boundary."""
    from reelforge.media.ffmpeg import atomic_output, start_ffmpeg

    count, height, width, _ = frames.shape
    even = frames[:, : height - height % 2, : width - width % 2]
    with atomic_output(path) as partial:
        args = [
            "-f", "rawvideo", "-pix_fmt", "rgb24",
            "-s", f"{even.shape[2]}x{even.shape[1]}", "-r", str(OUTPUT_FPS),
            "-i", "pipe:0",
            "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "12",
            "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(partial),
        ]  # fmt: skip
        with start_ffmpeg(args, total_ms=count * 1000 // OUTPUT_FPS) as process:
            for frame in even:
                process.write(np.ascontiguousarray(frame).tobytes())
            process.close_and_wait()
    return path


def accepted(pipe: Any, **kwargs: Any) -> dict[str, Any]:
    """The keyword arguments ``pipe.__call__`` takes (families differ: FLUX has no negative
    prompt, SVD no prompt); ``None`` values are left to the pipeline's defaults."""
    import inspect

    parameters = inspect.signature(pipe.__call__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return {k: v for k, v in kwargs.items() if v is not None}
    return {k: v for k, v in kwargs.items() if k in parameters and v is not None}


def native_side(pipe: Any, fallback: int) -> int:
    """The longest side the model was trained at (UNet sample size x the VAE's scale)."""
    unet = getattr(pipe, "unet", None) or getattr(pipe, "transformer", None)
    sample = getattr(getattr(unet, "config", None), "sample_size", None)
    scale = getattr(pipe, "vae_scale_factor", None) or getattr(pipe, "vae_scale_factor_spatial", 8)
    if isinstance(sample, (list, tuple)):
        sample = max(sample)
    if isinstance(sample, int) and isinstance(scale, int) and sample * scale >= 64:
        return sample * scale
    return fallback

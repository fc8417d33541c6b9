"""Image-to-video visuals with diffusers: Stable Video Diffusion (SVD, SVD-XT).

Each scene's clip animates a picture: the request's ``reference_image`` (a user's picture or a
character sheet), or else a still generated from the scene's prompt by the text-to-image model
of ``REELFORGE_GEN_IMAGE_MODEL``. The clip (14 or 25 frames at the model's few frames a second)
is fitted to the scene's length (slowed, played back and forth, or held:
``REELFORGE_GEN_FIT``) and written as an MP4 the renderer cover-fits to the output size, like
a user's clip.

The model comes from ``REELFORGE_GEN_VIDEO_MODEL`` (a local diffusers folder or a hub repo id in
the Hugging Face cache; nothing downloads). Generated frames are cached by a hash of the model,
picture, seed, size, frames and steps. Needs the ``gen`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from reelforge.engines.base import VisualRequest, VisualResult
from reelforge.engines.visuals import diffusion
from reelforge.errors import EngineFailed, EngineUnavailable

MODEL_SETTING = "gen_video_model"
STILL_SETTING = "gen_image_model"
SOURCE_FPS = 7  # SVD's frames a second (its fps conditioning)
DEFAULT_SIDE = 1024  # SVD renders 1024x576
DEFAULT_STEPS = 25
MOTION_BUCKET = 127  # SVD's motion amount (higher: more motion)
NOISE_AUGMENTATION = 0.02
DECODE_CHUNK = 8  # frames decoded at once (memory)


class SvdVideoVisuals(diffusion.DiffusionVisuals):
    """One generated clip per scene, animating a given or generated picture."""

    name: ClassVar[str] = "svd-video"
    model_setting: ClassVar[str] = MODEL_SETTING
    output: ClassVar[str] = "clip"
    # planning hands this engine the scenes' own pictures to animate (reference_image)
    animates_pictures: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._stills = diffusion.PipelineCache()

    def generate(self, request: VisualRequest, workdir: Path) -> VisualResult:
        self.check_inputs(request)
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        settings = diffusion.settings_for(MODEL_SETTING)
        torch, diffusers = diffusion.require_torch()
        folder = diffusion.model_folder(settings)
        cache = diffusion.cache_folder(settings, workdir)
        with self._pipelines.lock:
            pipe, device = self._pipelines.get(
                diffusers.StableVideoDiffusionPipeline, folder, settings
            )
            side = settings.size or DEFAULT_SIDE
            width, height = diffusion.generation_size(request.width, request.height, side)
            frames_wanted = settings.frames or int(getattr(pipe.unet.config, "num_frames", 14))
            steps = settings.steps or DEFAULT_STEPS
            still, still_facts = self._still(torch, diffusers, request, width, height, cache)
            key = diffusion.cache_key(
                "svd-video/1", folder.resolve(), diffusion.file_digest(still), request.seed,
                width, height, frames_wanted, steps, MOTION_BUCKET,
            )  # fmt: skip
            frames = diffusion.load_frames(cache / key)
            cached = frames is not None
            if frames is None:
                frames = self._animate(torch, pipe, device, still, request.seed, width, height,
                                       frames_wanted, steps, settings.guidance)  # fmt: skip
                diffusion.save_frames(frames, cache / key)
        positions = diffusion.fit_positions(
            len(frames), SOURCE_FPS, request.duration_ms, settings.fit
        )
        clip = diffusion.write_clip(
            diffusion.fitted_frames(frames, positions), workdir / f"svd-video-{key[:12]}.mp4"
        )
        return VisualResult(
            video=clip,
            engine=self.name,
            version=diffusion.gen_version(),
            extras={
                **still_facts,
                "model": settings.model,
                "seed": str(request.seed),
                "size": f"{width}x{height}",
                "frames": str(len(frames)),
                "steps": str(steps),
                "device": device,
                "fit": settings.fit,
                "cached": "yes" if cached else "no",
            },
        )

    def _still(
        self,
        torch: Any,
        diffusers: Any,
        request: VisualRequest,
        width: int,
        height: int,
        cache: Path,
    ) -> tuple[Path, dict[str, str]]:
        """The picture to animate: the reference image, or one generated from the prompt by
        the text-to-image model (cached like the clips)."""
        if request.reference_image is not None:
            return Path(request.reference_image), {"picture": str(request.reference_image)}
        settings = diffusion.settings_for(STILL_SETTING)
        if not settings.model.strip():
            raise EngineUnavailable(
                "svd-video animates a picture: the scene has none and no text-to-image model "
                f"is configured ({settings.setting} is empty)",
                hint=f"set {settings.setting} to a text-to-image model folder, or give the "
                "scene a reference image",
            )
        folder = diffusion.model_folder(settings)
        key = diffusion.cache_key(
            "svd-still/1", folder.resolve(), request.prompt, request.negative_prompt,
            request.seed, width, height, settings.steps, settings.guidance,
        )  # fmt: skip
        path = cache / f"{key}.png"
        if not path.is_file():
            pipe, device = self._stills.get(diffusers.AutoPipelineForText2Image, folder, settings)
            diffusion.enable_vae_tiling(pipe, settings)
            low = settings.model.lower()
            fast = "turbo" in low or "schnell" in low
            guidance = (
                settings.guidance if settings.guidance is not None else (0.0 if fast else 7.5)
            )
            kwargs = diffusion.accepted(
                pipe,
                prompt=request.prompt,
                negative_prompt=request.negative_prompt if guidance > 1 else None,
                num_inference_steps=settings.steps or (2 if fast else 25),
                guidance_scale=guidance,
                height=height,
                width=width,
                generator=diffusion.generators(torch, device, [request.seed])[0],
                output_type="np",
            )
            try:
                (image,) = pipe(**kwargs).images
            except RuntimeError as exc:
                raise EngineFailed(
                    f"the text-to-image model failed: {exc}", hint=_MEMORY_HINT
                ) from exc
            from PIL import Image

            partial = path.with_name(f".{path.stem}.partial.png")
            Image.fromarray(diffusion.as_uint8(image)).save(partial)
            partial.replace(path)
        return path, {"prompt": request.prompt, "picture": "generated"}

    @staticmethod
    def _animate(
        torch: Any,
        pipe: Any,
        device: str,
        still: Path,
        seed: int,
        width: int,
        height: int,
        frames: int,
        steps: int,
        guidance: float | None,
    ) -> diffusion.Frames:
        from PIL import Image

        image = diffusion.cover(Image.open(still).convert("RGB"), width, height)
        kwargs = diffusion.accepted(
            pipe,
            image=image,
            height=height,
            width=width,
            num_frames=frames,
            num_inference_steps=steps,
            max_guidance_scale=guidance,
            fps=SOURCE_FPS,
            motion_bucket_id=MOTION_BUCKET,
            noise_aug_strength=NOISE_AUGMENTATION,
            decode_chunk_size=DECODE_CHUNK,
            generator=diffusion.generators(torch, device, [seed])[0],
            output_type="np",
        )
        try:
            result = pipe(**kwargs).frames
        except RuntimeError as exc:
            raise EngineFailed(
                f"the image-to-video model failed: {exc}", hint=_MEMORY_HINT
            ) from exc
        return diffusion.as_uint8(result[0])


_MEMORY_HINT = (
    "on a GPU out of memory: set REELFORGE_GEN_OFFLOAD=1 or a smaller REELFORGE_GEN_SIZE or "
    "REELFORGE_GEN_FRAMES"
)

"""Text-to-image visuals with diffusers: SDXL-Turbo, SD 1.5, SDXL, FLUX.1-schnell.

Each scene gets one still generated from its prompt (planning builds it from the narration, the
template and its cultural context: :mod:`reelforge.plan.prompts`), at the output's aspect ratio
and the model's own resolution; the renderer cover-fits it to the output size and moves it with
the scene's Ken Burns motion, as it does a user's picture. A ``reference_image`` is kept by
image-to-image (the same character or place across scenes).

The model comes from ``REELFORGE_GEN_IMAGE_MODEL``: a local diffusers folder or a hub repo id
already in the Hugging Face cache (nothing downloads). Pictures are cached by a hash of the
model, prompts, seed, size, steps and guidance; scenes are generated in batches of
``REELFORGE_GEN_BATCH`` by :meth:`SdImageVisuals.prepare`. Needs the ``gen`` extra.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from reelforge.engines.base import VisualLayer, VisualRequest, VisualResult
from reelforge.engines.visuals import diffusion
from reelforge.errors import EngineFailed

MODEL_SETTING = "gen_image_model"
REFERENCE_STRENGTH = 0.6  # how far image-to-image may move from the reference picture


@dataclass(frozen=True)
class Family:
    """What a model family runs best with, unless the settings say otherwise."""

    steps: int
    guidance: float
    side: int  # longest generated side when the model does not say


def family(class_name: str, model: str) -> Family:
    """Defaults by pipeline class and model name (turbo and schnell distil to a few steps)."""
    low = model.lower()
    if "turbo" in low or "lightning" in low:
        return Family(steps=2, guidance=0.0, side=512)
    if class_name.startswith("Flux"):
        return Family(steps=4 if "schnell" in low else 28, guidance=0.0, side=1024)
    if "XL" in class_name:
        return Family(steps=30, guidance=6.0, side=1024)
    return Family(steps=25, guidance=7.5, side=512)


class SdImageVisuals(diffusion.DiffusionVisuals):
    """One generated still per scene, from a diffusers text-to-image model."""

    name: ClassVar[str] = "sd-image"
    model_setting: ClassVar[str] = MODEL_SETTING

    # ------------------------------------------------------------------ the verb
    def generate(self, request: VisualRequest, workdir: Path) -> VisualResult:
        self.check_inputs(request)
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        (path, facts), *_ = self.prepare([request], workdir)
        picture = workdir / f"sd-image-{path.stem}.png"
        shutil.copyfile(path, picture)  # the render must not depend on the cache's lifetime
        return VisualResult(
            layers=(VisualLayer(picture),),
            engine=self.name,
            version=diffusion.gen_version(),
            extras=facts,
        )

    def prepare(
        self, requests: Sequence[VisualRequest], workdir: Path
    ) -> list[tuple[Path, dict[str, str]]]:
        """Generate every request's picture not yet cached, ``REELFORGE_GEN_BATCH`` scenes per
        pipeline call; return each picture's cached file and facts, in order."""
        settings = diffusion.settings_for(MODEL_SETTING)
        torch, diffusers = diffusion.require_torch()
        folder = diffusion.model_folder(settings)
        class_name = diffusion.pipeline_class_name(folder)
        cache = diffusion.cache_folder(settings, Path(workdir))
        with self._pipelines.lock:
            pipe, device = self._pipelines.get(
                diffusers.AutoPipelineForText2Image, folder, settings
            )
            defaults = family(class_name, settings.model)
            steps = settings.steps or defaults.steps
            guidance = defaults.guidance if settings.guidance is None else settings.guidance
            side = settings.size or diffusion.native_side(pipe, defaults.side)
            plans = []
            for request in requests:
                self.check_inputs(request)
                width, height = diffusion.generation_size(request.width, request.height, side)
                key = diffusion.cache_key(
                    "sd-image/1", folder.resolve(), request.prompt, request.negative_prompt,
                    request.seed, width, height, steps, guidance,
                    diffusion.file_digest(request.reference_image),
                )  # fmt: skip
                plans.append((request, width, height, cache / f"{key}.png"))
            todo = [p for p in plans if not p[3].is_file()]
            diffusion.enable_vae_tiling(pipe, settings)
            plain = [p for p in todo if p[0].reference_image is None]
            for start in range(0, len(plain), settings.batch):
                batch = plain[start : start + settings.batch]
                self._text_to_image(torch, pipe, device, batch, steps, guidance)
            for plan in todo:
                if plan[0].reference_image is not None:
                    self._image_to_image(torch, diffusers, pipe, device, plan, steps, guidance)
        return [
            (
                path,
                {
                    "prompt": request.prompt,
                    "model": settings.model,
                    "seed": str(request.seed),
                    "size": f"{width}x{height}",
                    "steps": str(steps),
                    "device": device,
                    "cached": "no" if any(path == t[3] for t in todo) else "yes",
                    # image-to-image from this picture (a character sheet, a scene's own photo)
                    "reference": Path(request.reference_image).name
                    if request.reference_image is not None
                    else "",
                },
            )
            for request, width, height, path in plans
        ]

    # ------------------------------------------------------------------ calls
    def _text_to_image(
        self,
        torch: Any,
        pipe: Any,
        device: str,
        batch: Sequence[tuple[VisualRequest, int, int, Path]],
        steps: int,
        guidance: float,
    ) -> None:
        # One call per size: a batch shares its height and width (scenes of one video do).
        by_size: dict[tuple[int, int], list[tuple[VisualRequest, int, int, Path]]] = {}
        for plan in batch:
            by_size.setdefault((plan[1], plan[2]), []).append(plan)
        for (width, height), group in by_size.items():
            kwargs = diffusion.accepted(
                pipe,
                prompt=[p[0].prompt for p in group],
                negative_prompt=[p[0].negative_prompt for p in group] if guidance > 1 else None,
                num_inference_steps=steps,
                guidance_scale=guidance,
                height=height,
                width=width,
                generator=diffusion.generators(torch, device, [p[0].seed for p in group]),
                output_type="np",
            )
            images = self._run(pipe, kwargs)
            for plan, image in zip(group, images, strict=True):
                _save_png(diffusion.as_uint8(image), plan[3])

    def _image_to_image(
        self,
        torch: Any,
        diffusers: Any,
        pipe: Any,
        device: str,
        plan: tuple[VisualRequest, int, int, Path],
        steps: int,
        guidance: float,
    ) -> None:
        from PIL import Image

        request, width, height, path = plan
        assert request.reference_image is not None
        image_pipe = diffusers.AutoPipelineForImage2Image.from_pipe(pipe)
        image_pipe.set_progress_bar_config(disable=True)
        reference = diffusion.cover(
            Image.open(request.reference_image).convert("RGB"), width, height
        )
        # image-to-image runs strength x steps: at least one step must remain
        steps = max(steps, round(1 / REFERENCE_STRENGTH + 0.5))
        kwargs = diffusion.accepted(
            image_pipe,
            prompt=[request.prompt],
            negative_prompt=[request.negative_prompt] if guidance > 1 else None,
            image=reference,
            strength=REFERENCE_STRENGTH,
            num_inference_steps=steps,
            guidance_scale=guidance,
            generator=diffusion.generators(torch, device, [request.seed]),
            output_type="np",
        )
        (image,) = self._run(image_pipe, kwargs)
        _save_png(diffusion.as_uint8(image), path)

    @staticmethod
    def _run(pipe: Any, kwargs: dict[str, Any]) -> Any:
        try:
            return pipe(**kwargs).images
        except RuntimeError as exc:
            if "out of memory" in str(exc).lower():
                raise EngineFailed(
                    f"the GPU ran out of memory generating pictures: {exc}",
                    hint="set REELFORGE_GEN_OFFLOAD=1, REELFORGE_GEN_BATCH=1 or a smaller "
                    "REELFORGE_GEN_SIZE",
                ) from exc
            raise EngineFailed(
                f"the text-to-image model failed: {exc}", hint="see the log"
            ) from exc


def _save_png(image: Any, path: Path) -> None:
    from PIL import Image

    partial = path.with_name(f".{path.stem}.partial.png")
    Image.fromarray(image).save(partial)
    partial.replace(path)

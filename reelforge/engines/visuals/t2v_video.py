"""Text-to-video visuals with diffusers: Zeroscope v2 / ModelScope (``TextToVideoSDPipeline``),
and the pipelines that take the same arguments (LTX-Video, Wan 2.x, CogVideoX).

Each scene's clip is generated from its prompt (built by :mod:`reelforge.plan.prompts`), fitted
to the scene's length (slowed, played back and forth, or held: ``REELFORGE_GEN_FIT``) and
written as an MP4 the renderer cover-fits to the output size, like a user's clip.

The model comes from ``REELFORGE_GEN_T2V_MODEL`` (a local diffusers folder or a hub repo id in
the Hugging Face cache; nothing downloads); its pipeline class is read from its
``model_index.json``. Frames are cached by a hash of the model, prompts, seed, size, frames and
steps; scenes are generated ``REELFORGE_GEN_BATCH`` per pipeline call by
:meth:`T2vVideoVisuals.prepare`. Needs the ``gen`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from reelforge.engines.base import VisualRequest, VisualResult
from reelforge.engines.visuals import diffusion
from reelforge.errors import EngineFailed

MODEL_SETTING = "gen_t2v_model"


@dataclass(frozen=True)
class Family:
    fps: int  # the frames a second the model's clips play at
    frames: int
    steps: int
    guidance: float
    side: int  # longest side when the model does not say


FAMILIES = {
    "TextToVideoSDPipeline": Family(fps=8, frames=24, steps=25, guidance=9.0, side=576),
    "LTXPipeline": Family(fps=24, frames=97, steps=40, guidance=3.0, side=704),
    "WanPipeline": Family(fps=16, frames=81, steps=30, guidance=5.0, side=832),
    "CogVideoXPipeline": Family(fps=8, frames=49, steps=50, guidance=6.0, side=720),
}
DEFAULT_FAMILY = FAMILIES["TextToVideoSDPipeline"]


@dataclass(frozen=True)
class _Plan:
    request: VisualRequest
    width: int
    height: int
    folder: Path  # the cached frames


class T2vVideoVisuals(diffusion.DiffusionVisuals):
    """One generated clip per scene, from a diffusers text-to-video model."""

    name: ClassVar[str] = "t2v-video"
    model_setting: ClassVar[str] = MODEL_SETTING
    output: ClassVar[str] = "clip"
    uses_reference: ClassVar[bool] = False  # a missing reference picture is no reason to stop

    def generate(self, request: VisualRequest, workdir: Path) -> VisualResult:
        self.check_inputs(request)
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        settings = diffusion.settings_for(MODEL_SETTING)
        (folder, fps, facts), *_ = self.prepare([request], workdir)
        frames = diffusion.load_frames(folder)
        if frames is None:
            raise EngineFailed(f"the generated frames in {folder} vanished", hint="run it again")
        positions = diffusion.fit_positions(len(frames), fps, request.duration_ms, settings.fit)
        clip = diffusion.write_clip(
            diffusion.fitted_frames(frames, positions),
            workdir / f"t2v-video-{folder.name[:12]}.mp4",
        )
        return VisualResult(
            video=clip,
            engine=self.name,
            version=diffusion.gen_version(),
            extras={**facts, "frames": str(len(frames)), "fit": settings.fit},
        )

    def prepare(
        self, requests: Sequence[VisualRequest], workdir: Path
    ) -> list[tuple[Path, int, dict[str, str]]]:
        """Generate every request's frames not yet cached, ``REELFORGE_GEN_BATCH`` scenes per
        pipeline call; return each clip's cached frame folder, its fps and facts, in order."""
        settings = diffusion.settings_for(MODEL_SETTING)
        torch, diffusers = diffusion.require_torch()
        folder = diffusion.model_folder(settings)
        known = FAMILIES.get(diffusion.pipeline_class_name(folder), DEFAULT_FAMILY)
        cache = diffusion.cache_folder(settings, Path(workdir))
        with self._pipelines.lock:
            pipe, device = self._pipelines.get(diffusers.DiffusionPipeline, folder, settings)
            steps = settings.steps or known.steps
            guidance = known.guidance if settings.guidance is None else settings.guidance
            count = settings.frames or known.frames
            side = settings.size or diffusion.native_side(pipe, known.side)
            plans = []
            for request in requests:
                self.check_inputs(request)
                width, height = diffusion.generation_size(request.width, request.height, side, 32)
                key = diffusion.cache_key(
                    "t2v-video/1", folder.resolve(), request.prompt, request.negative_prompt,
                    request.seed, width, height, count, steps, guidance,
                )  # fmt: skip
                plans.append(_Plan(request, width, height, cache / key))
            todo = [p for p in plans if not p.folder.is_dir()]
            if hasattr(pipe, "enable_vae_slicing"):
                pipe.enable_vae_slicing()  # decode a batch's frames a few at a time
            diffusion.enable_vae_tiling(pipe, settings)
            for start in range(0, len(todo), settings.batch):
                self._generate(
                    torch, pipe, device, todo[start : start + settings.batch],
                    count, steps, guidance,
                )  # fmt: skip
        return [
            (
                plan.folder,
                known.fps,
                {
                    "prompt": plan.request.prompt,
                    "model": settings.model,
                    "seed": str(plan.request.seed),
                    "size": f"{plan.width}x{plan.height}",
                    "steps": str(steps),
                    "device": device,
                    "cached": "no" if plan in todo else "yes",
                },
            )
            for plan in plans
        ]

    @staticmethod
    def _generate(
        torch: Any,
        pipe: Any,
        device: str,
        batch: Sequence[_Plan],
        count: int,
        steps: int,
        guidance: float,
    ) -> None:
        by_size: dict[tuple[int, int], list[_Plan]] = {}
        for plan in batch:
            by_size.setdefault((plan.width, plan.height), []).append(plan)
        for (width, height), group in by_size.items():
            kwargs = diffusion.accepted(
                pipe,
                prompt=[p.request.prompt for p in group],
                negative_prompt=[p.request.negative_prompt for p in group]
                if guidance > 1
                else None,
                num_frames=count,
                num_inference_steps=steps,
                guidance_scale=guidance,
                height=height,
                width=width,
                generator=diffusion.generators(torch, device, [p.request.seed for p in group]),
                output_type="np",
            )
            try:
                clips = pipe(**kwargs).frames
            except RuntimeError as exc:
                raise EngineFailed(
                    f"the text-to-video model failed: {exc}",
                    hint="on a GPU out of memory: set REELFORGE_GEN_OFFLOAD=1, "
                    "REELFORGE_GEN_BATCH=1, or fewer REELFORGE_GEN_FRAMES",
                ) from exc
            for plan, frames in zip(group, clips, strict=True):
                diffusion.save_frames(diffusion.as_uint8(frames), plan.folder)

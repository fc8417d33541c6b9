"""BLIP image captioning (Salesforce ``blip-image-captioning-base`` / ``-large`` or any
``BlipForConditionalGeneration`` folder): a picture in, a sentence out, for stories written
from an image (``reelforge write --from-image``).

The model comes from ``REELFORGE_CAPTION_MODEL``: a local transformers folder (config.json,
weights, the processor's files) or a hub id already in the Hugging Face cache; nothing
downloads. It runs on the generative settings' device and dtype (``REELFORGE_GEN_DEVICE``,
``REELFORGE_GEN_DTYPE``) and needs the ``gen`` extra (torch, transformers). The picture is
checked like an upload (header first, at most 40 MP) and shrunk before the model sees it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, ClassVar

from reelforge.engines.base import CaptionEngine, EngineInfo
from reelforge.engines.visuals import diffusion
from reelforge.errors import EngineFailed, EngineUnavailable

MODEL_SETTING = "caption_model"
LONGEST_SIDE = 1024  # the processor resizes to 384 px anyway
MAX_WORDS = 40  # tokens generated at most


class BlipCaptions(CaptionEngine):
    name: ClassVar[str] = "blip"

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, str, str], tuple[Any, Any]] = {}
        self._lock = threading.Lock()

    def info(self) -> EngineInfo:
        try:
            settings = diffusion.settings_for(MODEL_SETTING)
            diffusion.model_folder(settings, "config.json", "transformers")
            version = diffusion.gen_version()
        except EngineUnavailable as exc:
            reason = f"{exc.message} ({exc.hint})"
            return EngineInfo(self.name, "captioner", "", available=False, reason=reason)
        return EngineInfo(self.name, "captioner", version)

    def describe(self, image: Path) -> str:
        from reelforge.media.probe import check_image

        check_image(Path(image))
        settings = diffusion.settings_for(MODEL_SETTING)
        folder = diffusion.model_folder(settings, "config.json", "transformers")
        torch, _ = diffusion.require_torch()
        device = diffusion.device_of(settings, torch)
        dtype = diffusion.dtype_of(settings, device, torch)
        processor, model = self._model(folder, device, dtype)
        inputs = processor(images=_picture(Path(image)), return_tensors="pt").to(device)
        inputs["pixel_values"] = inputs["pixel_values"].to(dtype)
        with torch.inference_mode():
            tokens = model.generate(**inputs, max_new_tokens=MAX_WORDS, num_beams=3)
        said = str(processor.decode(tokens[0], skip_special_tokens=True)).strip()
        if not said:
            raise EngineFailed(
                f"the captioning model in {folder} said nothing about the picture",
                hint="check REELFORGE_CAPTION_MODEL names a trained BLIP captioning model",
            )
        return said[:1].upper() + said[1:]

    def _model(self, folder: Path, device: str, dtype: Any) -> tuple[Any, Any]:
        key = (str(folder), device, str(dtype))
        with self._lock:
            if key not in self._loaded:
                from transformers import BlipForConditionalGeneration, BlipProcessor

                try:
                    processor = BlipProcessor.from_pretrained(folder)
                    model = BlipForConditionalGeneration.from_pretrained(folder, dtype=dtype)
                except (OSError, ValueError) as exc:
                    raise EngineUnavailable(
                        f"{folder} does not hold a BLIP captioning model ({exc})",
                        hint="give the folder of Salesforce/blip-image-captioning-base or "
                        "another BlipForConditionalGeneration saved with its processor",
                    ) from exc
                self._loaded[key] = (processor, model.to(device).eval())
            return self._loaded[key]


def _picture(path: Path) -> Any:
    """The picture upright, in RGB, at most ``LONGEST_SIDE`` pixels long."""
    from PIL import Image, ImageOps

    with Image.open(path) as opened:
        opened.draft("RGB", (LONGEST_SIDE, LONGEST_SIDE))  # JPEG: decode at a reduced scale
        picture = ImageOps.exif_transpose(opened).convert("RGB")
    picture.thumbnail((LONGEST_SIDE, LONGEST_SIDE))
    return picture

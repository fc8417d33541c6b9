"""The styles of the procedural visuals engine, light to import (no numpy, no OpenCV).

The spec, templates, the command line and the API list and check styles from here through the
registry (:func:`reelforge.engines.registry.choices`); the engine draws exactly these.
"""

from __future__ import annotations

STYLES: dict[str, str] = {
    "gradient": "A soft diagonal gradient in the palette with a gentle glow.",
    "bokeh": "Out-of-focus discs of light drifting over a dark, glowing background.",
    "waves": "Layered flowing waves in the palette, moving at different depths.",
    "geometric": "Outlined and filled geometric shapes floating over a gradient.",
    "aurora": "Ribbons of northern light over a night sky.",
    "confetti": "Bright confetti scattered over a light, festive gradient.",
    "grid": "A glowing perspective grid under a dark sky: tech, explainers.",
    "sunset": "A warm glow on the horizon behind layered hills and clouds.",
}
"""Style name -> one-line description."""

"""What users write: the storyboard model, script/Markdown parsing, templates."""

from reelforge.spec.model import (
    CaptionSpec,
    MusicSpec,
    SceneSpec,
    Storyboard,
    TransitionSpec,
    VisualSpec,
)

__all__ = ["CaptionSpec", "MusicSpec", "SceneSpec", "Storyboard", "TransitionSpec", "VisualSpec"]

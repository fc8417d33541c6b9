"""Text handling: language detection, fonts and text rendering helpers."""

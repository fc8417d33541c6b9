"""Talking characters and podcasts: mouth tracks from voices, the built-in cast, photo warps."""

"""Render: compile a timeline to a plan (plain data), then run it (one encode per output)."""

from reelforge.render.plan import RenderPlan, compile_plan

__all__ = ["RenderPlan", "compile_plan"]

"""Engines that look at pictures."""

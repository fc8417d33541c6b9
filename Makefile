# Every target that runs reelforge sets it up first, so each works from a fresh clone on Debian 12
# with Python 3.11 (setup is a no-op when nothing changed).
VENV := .venv
PYTHON := $(VENV)/bin/python
REELFORGE := $(VENV)/bin/reelforge

.PHONY: setup demo preview test bench lint mbrola pico

setup:
	bash scripts/setup.sh

demo: setup
	$(REELFORGE) make examples/restaurant.md -o out/restaurant.mp4

preview: setup
	$(REELFORGE) make examples/restaurant.md -o out/restaurant-preview.mp4 --preview

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PYTHON) -m pytest -q --durations=15

bench: setup
	$(PYTHON) benchmarks/w60.py
	$(PYTHON) benchmarks/make60.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Optional, non-free: MBROLA's Arabic voice (non-commercial licence; see scripts/mbrola.sh).
mbrola: setup
	bash scripts/mbrola.sh

# Optional: SVOX Pico, the French default once here (Debian non-free, redistributable; see
# scripts/pico.sh). setup installs it by itself where apt already offers it.
pico: setup
	bash scripts/pico.sh

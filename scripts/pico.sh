#!/usr/bin/env bash
# Opt in to SVOX Pico (pico2wave), the clearest French voice here (Whisper CER ~0.04 against
# Kokoro's ~0.06, benchmarks/voices.py). Its code is Apache-2.0; its language data has no source,
# so Debian ships it in non-free, but it may be redistributed and used commercially.
# scripts/setup.sh installs it by itself wherever apt already offers it.
set -euo pipefail
source "$(dirname "$0")/nonfree.sh"

apt_offer libttspico-utils "[pico]"
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends libttspico-utils
echo "[pico] ready: French narration (fr-adult-female, the French default) speaks with SVOX Pico (see: reelforge engines, reelforge voices --language fr)"

#!/usr/bin/env bash
# Opt in to the MBROLA voices (Arabic ar2): far more intelligible Arabic than espeak-ng's own.
#
# They come from Debian's contrib and non-free sections and their licence allows non-commercial,
# non-military use only: you may not sell them or what they say. reelforge never installs them
# by itself; `reelforge engines` shows the licence once they are here.
set -euo pipefail

source "$(dirname "$0")/nonfree.sh"

echo "[mbrola] MBROLA voices: non-commercial, non-military use only (their licence forbids sale)."
apt_offer mbrola-ar2 "[mbrola]"
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends mbrola mbrola-ar2
echo "[mbrola] ready: Arabic voices now speak with MBROLA ar2 (see: reelforge engines, reelforge voices --language ar)"

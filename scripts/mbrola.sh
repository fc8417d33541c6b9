#!/usr/bin/env bash
# Opt in to the MBROLA voices (Arabic ar2): far more intelligible Arabic than espeak-ng's own.
#
# They come from Debian's contrib and non-free sections and their licence allows non-commercial,
# non-military use only: you may not sell them or what they say. reelforge never installs them
# by itself; `reelforge engines` shows the licence once they are here.
set -euo pipefail

SUDO=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[mbrola] no apt-get here: install mbrola and the mbrola-ar2 voice with your package manager" >&2
  exit 1
fi
echo "[mbrola] MBROLA voices: non-commercial, non-military use only (their licence forbids sale)."
if ! apt-cache policy mbrola-ar2 2>/dev/null | grep -q 'Candidate: [0-9]'; then
  if [[ -f /etc/os-release ]] && grep -q '^ID=debian' /etc/os-release; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "[mbrola] enabling Debian's contrib and non-free sections ($codename)"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$codename" "$codename" | "${SUDO[@]}" tee /etc/apt/sources.list.d/reelforge-contrib-nonfree.sources >/dev/null
  else
    echo "[mbrola] enable your distribution's non-free packages (Ubuntu: multiverse) first" >&2
  fi
  "${SUDO[@]}" apt-get update -q
fi
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends mbrola mbrola-ar2
echo "[mbrola] ready: Arabic voices now speak with MBROLA ar2 (see: reelforge engines, reelforge voices --language ar)"

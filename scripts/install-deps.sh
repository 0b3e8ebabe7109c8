#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Soitto needs to build and test, and
# says what it installs. Uses sudo when not root. Safe to run again.
set -euo pipefail

pkgs=(
  gcc pkg-config                                   # cgo
  libgl1-mesa-dev libx11-dev libxrandr-dev libxinerama-dev
  libxcursor-dev libxi-dev libxxf86vm-dev          # Fyne's OpenGL window
  xvfb                                             # headless window tests, screenshots
  openssl                                          # certificate checks in tests
  postgresql                                       # the PostgreSQL account store's tests
  coturn                                           # a TURN/STUN peer nobody here wrote (interop tests)
  iproute2 iptables                                # real NATs in network namespaces (e2e test)
  libopus-dev libopusfile-dev libspeexdsp-dev      # Opus, echo cancellation (cgo)
  pulseaudio pulseaudio-utils                      # a null sink for the system-device audio test
  espeak-ng sox                                    # speech WAVs for the call tests
)

missing=()
for p in "${pkgs[@]}"; do
  [[ "$p" == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "install-deps: not a Debian/Ubuntu system; please install: ${missing[*]}" >&2
    exit 1
  fi
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "install-deps: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go: the module needs 1.26 or newer.
export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null; then
  echo "install-deps: Go 1.26 or newer is needed: install it from https://go.dev/dl/ into /usr/local/go" >&2
  exit 1
fi
v=$(go env GOVERSION | sed 's/^go//')
if [[ $(printf '%s\n' "1.26" "$v" | sort -V | head -1) != "1.26" ]]; then
  echo "install-deps: Go $v is too old; Soitto needs 1.26 or newer (https://go.dev/dl/)" >&2
  exit 1
fi

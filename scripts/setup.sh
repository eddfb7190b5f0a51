#!/usr/bin/env bash
# Installs everything the project needs from its own files: Debian packages (when missing) and the
# npm dependencies from package-lock.json (whose "prepare" script builds dist/).
set -euo pipefail
cd "$(dirname "$0")/.."

# check_urdf (URDF validation), CPU PyTorch + ONNX (training/, parity tests), websockets (isaac/ worker
# protocol tests), chromium (browser test of the operator page; never downloaded by playwright).
DEBIAN_PACKAGES=(liburdfdom-tools python3-torch python3-onnx python3-numpy python3-scipy python3-websockets chromium)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: missing Debian packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund

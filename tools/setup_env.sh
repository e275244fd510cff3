#!/usr/bin/env bash
# Set up everything drivestack needs on a fresh machine (Debian, Python 3.11):
#   1. the system library open3d needs (libusb-1.0-0), installed when missing and we are root,
#      otherwise the exact command to run is printed;
#   2. a virtual environment in .venv (created if missing) with drivestack and its dev tools.
# Idempotent: a second run only re-installs when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

have_libusb() {
  # grep without -q reads all of ldconfig's output (pipefail would see SIGPIPE otherwise)
  PATH="$PATH:/sbin:/usr/sbin" ldconfig -p 2>/dev/null | grep 'libusb-1\.0\.so\.0' >/dev/null \
    || dpkg -s libusb-1.0-0 >/dev/null 2>&1
}

if ! have_libusb; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing libusb-1.0-0 (needed by open3d)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libusb-1.0-0
  else
    echo "setup: open3d needs the system library libusb-1.0; install it with:" >&2
    echo "    sudo apt-get install -y libusb-1.0-0" >&2
    exit 1
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.drivestack-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing drivestack and its dependencies into $VENV (first time: a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
  # ouster-sdk decodes Ouster packet bags (drivestack.ingest.rosbag); it pins rosbags==0.9.23,
  # which cannot write MCAP, so it is installed without its dependencies (the parts drivestack
  # uses need none beyond numpy), pinned to the version the tests were run with
  "$VENV/bin/python" -m pip install --quiet --no-deps 'ouster-sdk==1.0.1'
  touch "$stamp"
fi

#!/usr/bin/env bash
# Installs what `make run` and `make test` need on a fresh Debian machine: uv, the Python
# environment (.venv, from uv.lock), and Debian's orthanc, dcmtk, dicom3tools (dciodvfy checks the
# IOCM rejection notes we build: tests/unit/pacs/test_rejection_note.py), redis-server, chromium,
# npm and nginx (tests/integration/test_nginx.py runs deploy/'s configuration) when absent.
set -euo pipefail
cd "$(dirname "$0")/.."

need_debs=()
command -v Orthanc >/dev/null 2>&1 || [ -x /usr/sbin/Orthanc ] || need_debs+=(orthanc)
[ -x /usr/bin/wlmscpfs ] || need_debs+=(dcmtk)
[ -x /usr/bin/dciodvfy ] || need_debs+=(dicom3tools)       # dciodvfy (unit tests)
dpkg -s orthanc-dicomweb >/dev/null 2>&1 || need_debs+=(orthanc-dicomweb)
command -v redis-server >/dev/null 2>&1 || need_debs+=(redis-server)
[ -x /usr/bin/chromium ] || need_debs+=(chromium)          # browser tests (make test)
command -v npm >/dev/null 2>&1 || need_debs+=(nodejs npm)  # the browser app
[ -x /usr/sbin/nginx ] || need_debs+=(nginx)                # deploy/ checked for real (tests)
if [ ${#need_debs[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "bootstrap: installing Debian packages: ${need_debs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >/dev/null
    # Debian's orthanc package may start its own service on 4242/8042: we run our own.
    if command -v service >/dev/null 2>&1; then service orthanc stop >/dev/null 2>&1 || true; fi
    # nginx's package starts its default site on port 80: the tests run their own nginx
    if [[ " ${need_debs[*]} " == *" nginx "* ]] && command -v service >/dev/null 2>&1; then
      service nginx stop >/dev/null 2>&1 || true
    fi
  else
    echo "bootstrap: please install these Debian packages, then run again:" >&2
    echo "  sudo apt-get install -y ${need_debs[*]}" >&2
    exit 1
  fi
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet

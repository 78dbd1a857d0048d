#!/usr/bin/env bash
# Installs what Muster needs and is missing: libzmq, SQLite and TCMalloc to build against and the
# test tools (Debian packages), pyzmq and pytest (PyPI) for the language-neutral integration tests. Idempotent and quiet
# when everything is there.
set -euo pipefail

need_apt=()
# faketime: black-box calendar tests run the broker at another date (integration/test_calendar.py).
# chromium, chromium-driver, fonts-noto-cjk: the seat console's and the centre's screen in headless Chromium
# (integration/test_console.py, integration/test_web_screen.py).
# zlib1g-dev: ZIPFoundation reads the hotline's .xlsx exports (muster import hotline).
# libgoogle-perftools-dev: the muster executable allocates through TCMalloc (Package.swift, CTCMalloc).
for pkg in libzmq3-dev libsqlite3-dev zlib1g-dev libgoogle-perftools-dev faketime chromium chromium-driver fonts-noto-cjk; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
  echo "installing ${need_apt[*]} (apt)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "swift is not on PATH: install Swift 6 (swift.org) first" >&2
  exit 1
fi

need_pip=()
python3 -c "import zmq" 2>/dev/null || need_pip+=(pyzmq)
python3 -c "import pytest" 2>/dev/null || need_pip+=(pytest)
python3 -c "import yaml" 2>/dev/null || need_pip+=(pyyaml)
# jsonschema: integration/test_webhook_updates.py checks the webhook's messages against Plugins/Webhook/openapi.yaml.
python3 -c "import jsonschema" 2>/dev/null || need_pip+=(jsonschema)
# selenium: drives chromium for integration/test_console.py.
python3 -c "import selenium" 2>/dev/null || need_pip+=(selenium)
# prometheus_client: its text-format parser reads /metrics in integration/test_metrics_health.py.
python3 -c "import prometheus_client.parser" 2>/dev/null || need_pip+=(prometheus_client)
if ((${#need_pip[@]})); then
  echo "installing ${need_pip[*]} (pip)"
  python3 -m pip install -q --disable-pip-version-check "${need_pip[@]}" 2>&1 | grep -v "WARNING: Running pip as the 'root' user" || true
fi

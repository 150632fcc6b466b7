#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the dashboard's browser tests
# (tests/app/test_site.py, driven by tests/servers/chromium.py). Idempotent and quiet:
# nothing to do when /usr/bin/chromium is already there. Needs root or sudo (apt-get).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo > /dev/null || { echo "error: installing chromium needs root — run as root or install sudo" >&2; exit 1; }
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core > /dev/null
/usr/bin/chromium --version

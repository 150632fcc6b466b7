#!/usr/bin/env bash
# The real Prometheus the live-data tests start (tests/servers/prometheus.py): Debian's package,
# which brings both `prometheus` and `promtool` (used to backfill deterministic test data).
# Idempotent and quiet: returns at once when both programs are already installed.
set -euo pipefail

if command -v prometheus > /dev/null && command -v promtool > /dev/null; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

# apt's output goes to a log shown only when the install fails (quiet on success).
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends prometheus; } > "$log" 2>&1; then
  cat "$log" >&2
  echo "error: could not install Debian's prometheus package — check apt's sources and re-run" >&2
  exit 1
fi
prometheus --version > /dev/null 2>&1
promtool --version > /dev/null 2>&1

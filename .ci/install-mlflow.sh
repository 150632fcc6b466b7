#!/usr/bin/env bash
# The real MLflow tracking server the registry tests start (tests/servers/mlflow.py).
# It lives in its own virtual environment, .venv-mlflow-server/ (git-ignored), so promobot's
# test environment keeps only promobot's real dependencies: promobot itself talks to MLflow
# over its REST API and never imports the mlflow package.
# Idempotent and quiet: a second run with the pinned version already installed does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# 3.18.0 does not install (one of its dependencies is not published); keep the pin.
MLFLOW_VERSION="3.17.2"
VENV=".venv-mlflow-server"

if [ -x "$VENV/bin/mlflow" ] && "$VENV/bin/python" - "$MLFLOW_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if version("mlflow") == sys.argv[1] else 1)
PY
then
  exit 0
fi

python3 -m venv "$VENV"
# pip's output goes to a log shown only when the install fails (quiet on success).
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "mlflow==$MLFLOW_VERSION" > "$log" 2>&1; then
  cat "$log" >&2
  echo "error: could not install mlflow==$MLFLOW_VERSION into $VENV — check the package registry and re-run" >&2
  exit 1
fi
"$VENV/bin/mlflow" --version > /dev/null

#!/usr/bin/env bash
# Regenerates the hash-locked requirement files (README "Upgrading" → dependencies):
#   requirements/action.txt   the runtime dependencies of promobot and its build backend,
#                             installed by action.yml with `pip install --require-hashes`;
#   requirements/release.txt  build, twine and setuptools for .github/workflows/release.yml.
# Resolves against the public package index only (the machine's pip config, local wheel
# folders and mirrors are ignored) for Python 3.11, the action's default.
# Usage: bash .ci/lock.sh [--upgrade | --upgrade-package NAME ...]   (needs pip-tools: pip install -e '.[dev]')
set -euo pipefail
cd "$(dirname "$0")/.."

compile() {
    env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT \
        PIP_CONFIG_FILE=/dev/null CUSTOM_COMPILE_COMMAND="bash .ci/lock.sh" \
        pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
        --no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple "$@"
}

compile --build-deps-for wheel --output-file requirements/action.txt "${@}" pyproject.toml
compile --output-file requirements/release.txt "${@}" requirements/release.in

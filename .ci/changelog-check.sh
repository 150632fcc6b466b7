#!/usr/bin/env bash
# A change to bot/ needs a line under `## [Unreleased]` in CHANGELOG.md, or a trailer in each
# such commit saying why not (`Changelog: none — <why>`). Judges the commits after the merge
# base with $CHANGELOG_BASE (CI sets it to a pull request's base); skipped when it is unset.
# Details and exit codes: .ci/changelog.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec "${PYTHON:-python3}" .ci/changelog.py check

#!/usr/bin/env python3
"""CHANGELOG.md for CI and releases (Keep a Changelog form; see the file's header).

  python3 .ci/changelog.py check
      Fails (exit 1) when commits since the base change bot/ but the `## [Unreleased]`
      section is unchanged, unless each such commit carries a trailer saying why it needs
      no entry:  `Changelog: none — <why>`.
      The base is CHANGELOG_BASE (a commit, branch or tag); the commits checked are those
      after its merge base with HEAD (merges skipped), i.e. what a pull request adds on top
      of main's first-parent history. With CHANGELOG_BASE unset or empty — a push to main,
      a fresh clone, a local run — there is no pull request to judge and the check is
      skipped: commits made before this check existed are never judged. CI sets it to the
      pull request's base commit (.github/workflows/ci.yml).
  python3 .ci/changelog.py notes --tag vX.Y.Z
      Prints the `## [X.Y.Z]` section (the GitHub release's notes); fails when the tag does
      not name pyproject.toml's version or the section is missing or empty.

Both run in the current directory: the repository's top level.
Exit status: 0 passed or skipped, 1 the check failed, 2 bad input (unknown base, bad tag).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

CHANGELOG = "CHANGELOG.md"
WATCHED = "bot/"
TRAILER = "Changelog"
HEADING = re.compile(r"^## \[([^\]]+)\]", re.MULTILINE)


def git(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=check)


def section(text: str, name: str) -> str | None:
    """The body of `## [name]` up to the next `## ` heading, or None when there is no such heading."""
    for match in HEADING.finditer(text):
        if match.group(1).lower() == name.lower():
            start = text.index("\n", match.end()) + 1 if "\n" in text[match.end() :] else len(text)
            following = re.search(r"^## ", text[start:], re.MULTILINE)
            return text[start : start + following.start()] if following else text[start:]
    return None


def unreleased_at(rev: str) -> str:
    shown = git("show", f"{rev}:{CHANGELOG}", check=False)
    return (section(shown.stdout, "Unreleased") or "") if shown.returncode == 0 else ""


def says_why_not(commit: str) -> bool:
    """True when the commit has `Changelog: none` followed by a reason."""
    values = git("log", "-1", f"--format=%(trailers:key={TRAILER},valueonly)", commit).stdout
    for value in values.splitlines():
        match = re.fullmatch(r"\s*none\b[\s:—–-]*(.*)", value, re.IGNORECASE)
        if match and re.search(r"\w", match.group(1)):
            return True
    return False


def check() -> int:
    base = os.environ.get("CHANGELOG_BASE", "").strip()
    if not base:
        print("changelog check: skipped — no pull request base (CHANGELOG_BASE=<commit> checks a branch)")
        return 0
    found = git("merge-base", base, "HEAD", check=False)
    if found.returncode != 0:
        print(
            f"error: CHANGELOG_BASE={base} has no merge base with HEAD here — fetch full history "
            "(actions/checkout with fetch-depth: 0) or unset CHANGELOG_BASE",
            file=sys.stderr,
        )
        return 2
    merge_base = found.stdout.strip()
    commits = git("rev-list", "--no-merges", f"{merge_base}..HEAD").stdout.split()
    touching = [
        c for c in commits if git("diff-tree", "--no-commit-id", "--name-only", "-r", c, "--", WATCHED).stdout
    ]
    if not touching:
        print(f"changelog check: passed — no commit since {merge_base[:12]} changes {WATCHED}")
        return 0
    if unreleased_at(merge_base) != unreleased_at("HEAD"):
        print(f"changelog check: passed — {CHANGELOG}'s Unreleased section records the change to {WATCHED}")
        return 0
    missing = [c for c in touching if not says_why_not(c)]
    if not missing:
        print(f"changelog check: passed — every commit changing {WATCHED} says why it needs no entry")
        return 0
    print(
        f"error: {len(missing)} commit(s) change {WATCHED} but {CHANGELOG}'s `## [Unreleased]` section is "
        f"unchanged since {merge_base[:12]}:",
        file=sys.stderr,
    )
    for commit in missing:
        print("  " + git("log", "-1", "--format=%h %s", commit).stdout.strip(), file=sys.stderr)
    print(
        f"  — add a line under `## [Unreleased]` in {CHANGELOG}, or, if users will not notice it, end "
        f"each commit message with a trailer such as `{TRAILER}: none — refactor, no change in behaviour`",
        file=sys.stderr,
    )
    return 1


def notes(tag: str) -> int:
    root = Path.cwd()  # the repository's top level, as in CI
    version = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    if tag != f"v{version}":
        print(
            f"error: tag {tag} does not name pyproject.toml's version {version} — "
            f'set version = "{tag.removeprefix("v")}" in pyproject.toml, or tag v{version}',
            file=sys.stderr,
        )
        return 2
    body = section((root / CHANGELOG).read_text(encoding="utf-8"), version)
    if body is None or not body.strip():
        print(
            f"error: {CHANGELOG} has no `## [{version}]` section with entries — move the Unreleased "
            f"entries under `## [{version}] - <date>` before tagging",
            file=sys.stderr,
        )
        return 2
    sys.stdout.write(body.strip() + "\n")
    return 0


def main(argv: list[str]) -> int:
    if argv == ["check"]:
        return check()
    if len(argv) == 3 and argv[:2] == ["notes", "--tag"]:
        return notes(argv[2])
    print("usage: changelog.py check | changelog.py notes --tag vX.Y.Z", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

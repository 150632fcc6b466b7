"""GitHub API requests per event, counted at the emulator (reference §14 request budgets).

    python benchmarks/request_budgets.py

Runs the end-to-end GitHub flows (tests/test_github_flows.py: PyGithub against the
stateful emulator on loopback) and prints, per flow, how many requests promobot sent
and which operations they were, next to the budgets:
  opening a promotion PR with 6 gates ≤ 12; a /promote that merges ≤ 12; a review event ≤ 8;
  a scheduled run with N open post-deploy verifications and nothing changed ≤ 2N + 2
  (tests/test_verify_github.py, against a real Prometheus; reference §15.3); a scheduled run
  with N open promotion PRs and nothing due ≤ ceil(N/100) + 2 (tests/test_scale.py, N = 30;
  benchmarks/scale.py measures 100 and 1,000).
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-s",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",
        str(ROOT / "tests" / "test_github_flows.py"),
        str(ROOT / "tests" / "test_verify_github.py"),
        str(ROOT / "tests" / "test_scale.py"),
        "-k",
        "opens_a_pr or promote_comment_merges or chains or 2n_plus_2 or idle_scheduled_run",
    ]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    budgets = {"open a promotion PR": 12, "/promote that merges": 12, "review event": 8}
    for line in out.stdout.splitlines():
        text = line.strip(".").rstrip()
        if not text or text.startswith(("=", "[")) or "passed" in text:
            continue
        name, _, rest = text.partition(":")
        verifying = re.fullmatch(r"scheduled verify, (\d+) open \(.*\)", name)
        if verifying:
            budgets[name] = 2 * int(verifying.group(1)) + 2
        idle = re.fullmatch(r"idle scheduled run, (\d+) open PRs", name)
        if idle:
            budgets[name] = math.ceil(int(idle.group(1)) / 100) + 2
        if rest.strip().endswith("requests") and name in budgets:
            n = int(rest.split()[0])
            verdict = "ok" if n <= budgets[name] else "OVER"
            print(f"{text}   (budget ≤ {budgets[name]}: {verdict})")
        else:
            print(text)
    return out.returncode


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Example command gate for the prod promotion (environments/promotion.yaml).

promobot runs it from the base branch's checkout with the candidate manifest as a JSON
file named by PROMOBOT_MANIFEST (plus PROMOBOT_MODEL, PROMOBOT_FROM, PROMOBOT_TO).
It prints one line and exits 0 when the manifest looks deployable, 1 otherwise.
A real smoke test would load the model and score a few canned requests.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    path = os.environ.get("PROMOBOT_MANIFEST")
    if not path:
        print("smoke: PROMOBOT_MANIFEST is not set — run this through promobot's command gate")
        return 1
    with open(path, encoding="utf-8") as handle:
        manifest = json.load(handle)
    problems = []
    if not str(manifest.get("version", "")).strip():
        problems.append("no version")
    artifact = manifest.get("artifact") or {}
    if not str(artifact.get("digest", "")).startswith("sha256:"):
        problems.append("artifact has no sha256 digest")
    metrics = manifest.get("metrics") or {}
    for name in ("auc", "latency_p95_ms"):
        if not isinstance(metrics.get(name), (int, float)):
            problems.append(f"metric {name} missing")
    model = os.environ.get("PROMOBOT_MODEL", manifest.get("name", "?"))
    target = os.environ.get("PROMOBOT_TO", "?")
    if problems:
        print(f"smoke: {model} {manifest.get('version')} → {target}: " + "; ".join(problems))
        return 1
    auc, p95 = metrics["auc"], metrics["latency_p95_ms"]
    print(f"smoke: {model} {manifest['version']} → {target}: ok (auc {auc}, p95 {p95} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The local forge keeps the same Deployment records as GitHub for each verification (reference §15.3).

Same scenario as tests/app/test_verify.py (fraud-detector merged into staging at 06:00, judged 06:10 →
08:10 against a real Prometheus); the records are read from ``.git/promobot/forge.json``.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Cli
from tests.verify_setup import live_cli, merge_locally, verify_once  # noqa: F401  (live_cli: the `live` fixture)


def _deployments(cli: Cli) -> list[dict[str, Any]]:
    forge = json.loads((cli.repo / ".git" / "promobot" / "forge.json").read_text())
    return list(forge.get("deployments", []))


def test_a_verification_is_a_deployment_whose_statuses_follow_it_on_the_local_forge(live: Cli) -> None:
    sha = merge_locally(live, "1.4.0")
    assert verify_once(live, "2026-11-27T07:00:00Z")["state"] == "pending"
    (rec,) = _deployments(live)
    assert (rec["sha"], rec["environment"], rec["task"]) == (sha, "staging", "deploy:fraud-detector")
    assert rec["payload"] == {"model": "fraud-detector", "version": "1.4.0"}
    assert [s["state"] for s in rec["statuses"]] == ["in_progress"]

    before = (live.repo / ".git" / "promobot" / "forge.json").read_bytes()
    assert verify_once(live, "2026-11-27T07:00:00Z")["state"] == "pending"
    assert (live.repo / ".git" / "promobot" / "forge.json").read_bytes() == before  # nothing changed

    assert verify_once(live, "2026-11-27T09:00:00Z")["state"] == "success"
    (rec,) = _deployments(live)
    assert [s["state"] for s in rec["statuses"]] == ["in_progress", "success"]
    assert rec["statuses"][-1]["description"].startswith("fraud-detector 1.4.0: verified")

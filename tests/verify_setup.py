"""Post-deploy verification's setup: a real Prometheus, the emulator or the local forge, the scenarios.

The GitHub path is shared by ``tests/test_verify_github.py``, the fault matrix's ``verify-rollback`` flow
(``tests.github_setup.FLOWS``, ``benchmarks/faults.py``) and ``benchmarks/request_budgets.py``.
The data (``tests.servers.prometheus``) lives on 2026-11-27 06:00–10:00 UTC, so a scenario sets
the emulator's clock (its commits' time) to 06:00 before the promotion into staging merges:
staging's ``verify:`` then judges 06:10 → 08:10. The local-forge path (the CLI, ``promobot merge``
at 06:00) is shared by ``tests/test_verify*.py``.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import multiprocessing
import multiprocessing.util
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli
from tests.github_setup import dispatch_payload, review_payload
from tests.helpers.git import commit_all, git
from tests.helpers.rig import Hub
from tests.servers import unavailable
from tests.servers.prometheus import AUTH_HEADER, PrometheusServer, running_prometheus

URL_VAR = "PROMOBOT_PROM_STAGING_URL"
AUTH_VAR = "PROMOBOT_PROM_STAGING_AUTH"
MERGED_AT = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
RATIO = (
    'sum(rate(http_requests_total{model="{{ model }}",version="{{ version }}",env="{{ env }}",'
    'code=~"5.."}[5m])) / sum(rate(http_requests_total{model="{{ model }}",version="{{ version }}"}[5m]))'
)
PROVIDERS = f"""\
providers:
  prometheus:
    staging-metrics:
      url_env: {URL_VAR}
      headers_env: {{Authorization: {AUTH_VAR}}}
"""
ANCHOR = "  - name: staging                 # from: dev (the previous environment)\n"


def verify_block(on_failure: str | None = None) -> str:
    """staging's ``verify:`` on the error ratio; without ``on_failure`` the default (notify) applies."""
    line = f"      on_failure: {on_failure}\n" if on_failure else ""
    return f"""\
    verify:
      delay: 10m
      duration: 2h
      max_errors: 2
{line}      checks:
        - prometheus:
            name: error-rate
            provider: staging-metrics
            query: {json.dumps(RATIO)}
            max: 0.01
            step: 5m
            min_points: 12
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def live(hub: Hub, server: PrometheusServer) -> None:
    """Every workflow run of ``hub`` gets the provider's URL and Authorization from its env."""
    hub.environ.update({URL_VAR: server.url, AUTH_VAR: server.headers["Authorization"]})


def enable_verify(hub: Hub, *, on_failure: str = "notify", dev_version: str = "1.5.0") -> None:
    """Push the policy with ``verify:`` on staging, and dev running ``dev_version``."""

    def policy(text: str) -> str:
        assert ANCHOR in text
        text = text.replace("environments:\n", PROVIDERS + "environments:\n", 1)
        return text.replace(ANCHOR, ANCHOR + verify_block(on_failure), 1)

    hub.push_commit("environments/promotion.yaml", policy, "staging verifies live data")
    if dev_version != "1.5.0":  # the example's dev version
        hub.push_commit(
            "environments/dev/fraud-detector.yaml",
            lambda t: t.replace("version: 1.5.0", f"version: {dev_version}", 1),
            f"dev runs fraud-detector {dev_version}",
        )


def merge_into_staging(hub: Hub, *, when: datetime = MERGED_AT) -> str:
    """Promote fraud-detector dev → staging (PR #1), approve, and let it merge at ``when``.

    staging auto-merges and auto-promotes: the merge chains the prod PR (#2). Returns the
    merge commit's SHA.
    """
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.state.clock = int(when.timestamp()) - 2  # the emulator's commits carry its clock
    hub.emu.submit_review(1, "bob", "APPROVE")
    hub.deliver("pull_request_review", review_payload(hub, 1, login="bob", commit_id=hub.emu.head_sha(1)))
    pull = hub.emu.state.pulls[1]
    assert pull.merged and pull.merge_commit_sha, "setup: the staging promotion did not merge"
    return pull.merge_commit_sha


def run_verify(hub: Hub, when: datetime, *, model: str | None = None) -> list[dict[str, Any]]:
    """``promobot verify`` as one workflow run at ``when`` (``workflow_dispatch`` action verify)."""
    from bot.app import verify

    hub.now = when
    found = verify.run(hub.context(), model=model)
    return [verify.to_json(v) for v in found]


@dataclass(frozen=True)
class Shown:
    """A deployment as GitHub's Environments page shows it: where, what, and its statuses (oldest first)."""

    environment: str
    task: str
    sha: str
    statuses: tuple[str, ...]


def deployments(hub: Hub) -> list[Shown]:
    state = hub.emu.state
    with state.lock:
        return [
            Shown(
                d.environment,
                d.task,
                d.sha,
                tuple(reversed([s.state for s in state.statuses_of_deployment(d.id)])),
            )
            for d in sorted(state.deployments.values(), key=lambda d: d.id)
        ]


def push_promotions(hub: Hub, models: list[str], *, when: datetime = MERGED_AT) -> list[str]:
    """One commit per model adding it to staging as a promotion (trailers), as a merged PR would.

    For request budgets: N open verifications without N pull requests. Returns the SHAs.
    """
    work = hub.work / "promotions"
    if not work.exists():
        git(hub.work, "clone", "-q", str(hub.emu.git_dir), str(work))
    git(work, "fetch", "-q", "origin")
    git(work, "checkout", "-q", "-B", "main", "origin/main")
    template = (work / "environments" / "staging" / "fraud-detector.yaml").read_text()
    shas = []
    for i, model in enumerate(models):
        for env in ("dev", "staging"):
            path = work / "environments" / env / f"{model}.yaml"
            path.write_text(template.replace("name: fraud-detector", f"name: {model}", 1))
        git(work, "add", "-A")
        message = (
            f"Promote {model} 1.4.2 to staging\n\n"
            f"Promobot-Action: promote\nPromobot-Model: {model}\nPromobot-From: dev\n"
            f"Promobot-To: staging\nPromobot-Version: 1.4.2\n"
        )
        stamp = datetime.fromtimestamp(when.timestamp() + i, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        git(work, "commit", "-q", "-m", message, date=stamp)
        shas.append(git(work, "rev-parse", "HEAD"))
    git(work, "push", "-q", "origin", "HEAD:refs/heads/main")
    return shas


# --------------------------------------------------------------------------- the local forge

LOCAL_MERGED_AT = "2026-11-27T06:00:00Z"
VERIFY = verify_block()


@pytest.fixture(name="live")
def live_cli(people: Cli, prometheus_server: PrometheusServer, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``people`` whose commands get the provider's URL and Authorization from their env."""
    monkeypatch.setenv(URL_VAR, prometheus_server.url)
    monkeypatch.setenv(AUTH_VAR, prometheus_server.headers["Authorization"])
    return people


def add_verify(cli: Cli, verify: str = VERIFY, *, providers: str = PROVIDERS) -> None:
    """Write ``verify`` under staging (and ``providers``) into the policy; the caller commits."""
    policy = cli.repo / "environments" / "promotion.yaml"
    text = policy.read_text().replace("environments:\n", providers + "environments:\n", 1)
    assert ANCHOR in text
    policy.write_text(text.replace(ANCHOR, ANCHOR + verify, 1))


def promote_locally(cli: Cli, model: str = "fraud-detector", *, at: str = LOCAL_MERGED_AT) -> str:
    """Promote ``model`` into staging, approve and merge it at ``at``. The merge SHA."""
    opened = cli.json("promote", model, "--to", "staging", now=at)
    cli("pr", "review", str(opened["pr"]), "--approve", actor="carol", now=at)
    merged = cli.json("merge", str(opened["pr"]), actor="carol", now=at)
    assert merged["merged"], merged
    return str(merged["sha"])


def merge_locally(cli: Cli, version: str, *, at: str = LOCAL_MERGED_AT, verify: str = VERIFY) -> str:
    """staging verifies with ``verify``; dev runs ``version``; promote and merge at ``at``. The merge SHA."""
    add_verify(cli, verify)
    dev = cli.repo / "environments" / "dev" / "fraud-detector.yaml"
    dev.write_text(dev.read_text().replace("version: 1.5.0", f"version: {version}", 1))
    commit_all(cli.repo, f"dev runs fraud-detector {version}; staging verifies live data")
    return promote_locally(cli, at=at)


def verify_once(cli: Cli, now: str, *args: str) -> dict[str, Any]:
    """``promobot verify`` at ``now``, which finds exactly one verification."""
    (one,) = cli.json("verify", *args, now=now)["verifications"]
    return dict(one)


def verify_check(cli: Cli, sha: str) -> dict[str, Any]:
    """The ``promobot/verify`` check on ``sha`` as the local forge keeps it."""
    forge = json.loads((cli.repo / ".git" / "promobot" / "forge.json").read_text())
    (check,) = [c for c in forge["checks"] if c["name"] == "promobot/verify" and c["head_sha"] == sha]
    return dict(check)


# --------------------------------------------------------------------------- outside pytest

_SERVER: list[PrometheusServer] = []


def shared_prometheus() -> PrometheusServer:
    """One Prometheus per process for the fault matrix's flow, stopped when the process exits
    (also a pool worker's exit, which skips atexit: it used to leave its Prometheus running)."""
    if not _SERVER:
        if shutil.which("prometheus") is None or shutil.which("promtool") is None:
            unavailable("prometheus/promtool not installed — run .ci/install-prometheus.sh")
        stack = contextlib.ExitStack()
        base = Path(tempfile.mkdtemp(prefix="promobot-prometheus-"))
        _SERVER.append(stack.enter_context(running_prometheus(base)))
        if multiprocessing.parent_process() is None:
            atexit.register(stack.close)
        else:  # a pool worker (faults.py --jobs N) ends with os._exit: atexit never runs there
            multiprocessing.util.Finalize(None, stack.close, exitpriority=0)
    assert _SERVER[0].headers["Authorization"] == AUTH_HEADER
    return _SERVER[0]


def roll_back_after_a_breach(cli: Cli) -> tuple[str, str, str]:
    """1.5.0 merged into staging with on_failure: rollback, fails at 08:30, the rollback PR is
    merged at 09:00. (the failed promotion's sha, the rollback PR's number, the rollback's sha)"""
    bad = merge_locally(cli, "1.5.0")
    policy = cli.repo / "environments" / "promotion.yaml"
    policy.write_text(
        policy.read_text().replace(
            "      max_errors: 2\n", "      max_errors: 2\n      on_failure: rollback\n"
        )
    )
    commit_all(cli.repo, "staging rolls back on a failed verification", date="2026-11-27T06:01:00Z")
    failed = verify_once(cli, "2026-11-27T08:30:00Z")
    assert failed["state"] == "failure" and failed["rollback"] is not None, failed
    number = str(failed["rollback"]["pr"])
    cli("pr", "review", number, "--approve", actor="sam", now="2026-11-27T09:00:00Z")
    merged = cli.json("merge", number, actor="sam", now="2026-11-27T09:00:00Z")
    assert merged["merged"], merged
    return bad, number, str(merged["sha"])

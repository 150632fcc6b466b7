"""Scenarios on the GitHub path for the reliability tests: events, fault matrix, end state.

On the rig's ``Hub`` (``tests/helpers/rig.py``), owns the webhook payload builders the
reliability tests deliver through ``load_event`` → ``events.dispatch``, the ten fault-matrix
``FLOWS`` (setup + event), and ``snapshot``: the end state of the repository with volatile
fields (ids, timestamps, SHAs of re-created commits) replaced by trees and subjects, so that
two runs compare equal when they converged. Used by ``tests/test_faults.py``,
``tests/test_races.py``, ``tests/test_redelivery.py`` and ``benchmarks/faults.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import BotError
from tests.emulator.server import FAULT_KINDS
from tests.helpers.git import git
from tests.helpers.rig import Hub, forked_hub, fresh_hub

REPO = {"id": 1296269, "full_name": "acme/models", "default_branch": "main"}
_SHA_RE = re.compile(r"\b[0-9a-f]{40}\b")
_SHORT_SHA_RE = re.compile(r"\b[0-9a-f]{12}\b")
_DURATION_RE = re.compile(r"\b\d+(?:\.\d+)?\s?m?s\b")


# --------------------------------------------------------------------------- payloads


def user(login: str) -> dict[str, Any]:
    kind = "Bot" if login.endswith("[bot]") else "User"
    return {"login": login, "id": abs(hash(login)) % 10**6 + 1, "type": kind}


def dispatch_payload(
    action: str, model: str, env: str, *, actor: str = "alice", version: str | None = None
) -> dict[str, Any]:
    inputs = {"action": action, "model": model, "env": env}
    if version is not None:
        inputs["version"] = version
    return {"inputs": inputs, "ref": "refs/heads/main", "repository": REPO, "sender": user(actor)}


def pr_payload(hub: Hub, action: str, number: int) -> dict[str, Any]:
    pull = hub.emu.pull_json(number)
    return {
        "action": action,
        "number": number,
        "pull_request": pull,
        "repository": REPO,
        "sender": user("alice"),
    }


def review_payload(
    hub: Hub,
    number: int,
    *,
    login: str,
    commit_id: str,
    state: str = "approved",
    pull: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "action": "submitted",
        "review": {"id": 80, "user": user(login), "state": state, "commit_id": commit_id, "body": ""},
        "pull_request": pull or hub.emu.pull_json(number),
        "repository": REPO,
        "sender": user(login),
    }


def comment_payload(
    number: int, comment_id: int, *, login: str, body: str, action: str = "created"
) -> dict[str, Any]:
    return {
        "action": action,
        "issue": {"number": number, "state": "open", "pull_request": {"url": f"/pulls/{number}"}},
        "comment": {"id": comment_id, "body": body, "user": user(login)},
        "repository": REPO,
        "sender": user(login),
    }


def push_payload(before: str, after: str, paths: list[str]) -> dict[str, Any]:
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "commits": [{"id": after, "added": [], "modified": paths, "removed": []}],
        "repository": REPO,
        "sender": user("alice"),
    }


def rerequest_payload(hub: Hub, number: int) -> dict[str, Any]:
    pull = hub.emu.pull_json(number)
    return {
        "action": "rerequested",
        "check_run": {
            "head_sha": pull["head"]["sha"],
            "pull_requests": [{"number": number, "head": pull["head"], "base": pull["base"]}],
        },
        "repository": REPO,
        "sender": user("alice"),
    }


# --------------------------------------------------------------------------- flows


def bump_metric(text: str) -> str:
    """dev's fraud-detector with a better AUC: a change that auto-promotes to staging."""
    assert "auc: 0.936" in text
    return text.replace("auc: 0.936", "auc: 0.941", 1)


Event = Callable[[Hub], object]


@dataclass(frozen=True)
class Flow:
    """A fault-matrix flow: ``setup`` (fault-free) returns the event to run, which may be re-run."""

    name: str
    setup: Callable[[Hub], Event]


def _open_prod(hub: Hub) -> int:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "prod"))
    return 1


def _merge_staging(hub: Hub) -> None:
    """staging gets fraud-detector 1.5.0 through a merged promotion (prod PR #2 chained)."""
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")
    hub.deliver("pull_request_review", review_payload(hub, 1, login="bob", commit_id=hub.emu.head_sha(1)))
    assert hub.emu.state.pulls[1].merged, "setup: the staging promotion did not merge"


def setup_open_pr(hub: Hub) -> Event:
    payload = dispatch_payload("promote", "fraud-detector", "prod")
    return lambda h: h.deliver("workflow_dispatch", payload)


def setup_reevaluate(hub: Hub) -> Event:
    number = _open_prod(hub)
    hub.emu.submit_review(number, "carol", "APPROVE")
    payload = pr_payload(hub, "synchronize", number)
    return lambda h: h.deliver("pull_request", payload)


def setup_rerequest(hub: Hub) -> Event:
    number = _open_prod(hub)
    hub.emu.submit_review(number, "dave", "APPROVE")
    payload = rerequest_payload(hub, number)
    return lambda h: h.deliver("check_run", payload)


def setup_approvals(hub: Hub) -> Event:
    number = _open_prod(hub)
    hub.emu.submit_review(number, "carol", "APPROVE")
    hub.emu.submit_review(number, "dave", "APPROVE")
    payload = review_payload(hub, number, login="dave", commit_id=hub.emu.head_sha(number))
    return lambda h: h.deliver("pull_request_review", payload)


def setup_promote_comment(hub: Hub) -> Event:
    hub.deliver("workflow_dispatch", dispatch_payload("promote", "fraud-detector", "staging"))
    hub.emu.submit_review(1, "bob", "APPROVE")  # the review event is not delivered: /promote merges
    comment = hub.emu.comment(1, "erin", "/promote")
    payload = comment_payload(1, comment.id, login="erin", body=comment.body)
    return lambda h: h.deliver("issue_comment", payload, actor="erin")


def setup_rollback_pr(hub: Hub) -> Event:
    _merge_staging(hub)
    payload = dispatch_payload("rollback", "fraud-detector", "staging", actor="erin")
    return lambda h: h.deliver("workflow_dispatch", payload, actor="erin")


def setup_direct_rollback(hub: Hub) -> Event:
    from bot.app.rollback import rollback

    _merge_staging(hub)

    def run(h: Hub) -> object:
        return rollback(
            h.context("erin"),
            model="fraud-detector",
            env="staging",
            direct=True,
            reason="bad AUC in staging",
            actor="erin",
        )

    return run


def setup_auto_promote(hub: Hub) -> Event:
    before, after = hub.push_commit(
        "environments/dev/fraud-detector.yaml", bump_metric, "Retrain fraud-detector"
    )
    payload = push_payload(before, after, ["environments/dev/fraud-detector.yaml"])
    return lambda h: h.deliver("push", payload)


def setup_verify_rollback(hub: Hub) -> Event:
    """A breach in staging's live data: ``verify`` fails over to a rollback PR (reference §15.3).

    fraud-detector 1.5.0 merged into staging at 06:00 (prod PR #2 chained) and was pending at
    07:00; the event is the scheduled ``verify`` at 08:30 that sees the breach: the
    ``promobot/verify`` check and the deployment fail, a rollback PR opens, PR #1 gets a comment
    and the prod PR turns red. Needs a real Prometheus (one per process).
    """
    from bot.app import verify
    from tests.verify_setup import at, enable_verify, live, merge_into_staging, run_verify, shared_prometheus

    live(hub, shared_prometheus())
    enable_verify(hub, on_failure="rollback")
    merge_into_staging(hub)
    assert run_verify(hub, at("2026-11-27T07:00:00Z"))[0]["state"] == "pending"
    hub.now = at("2026-11-27T08:30:00Z")
    return lambda h: verify.run(h.context())


def setup_schedule(hub: Hub) -> Event:
    """A PR opened by a promobot without due markers (an upgrade): the schedule evaluates it."""
    number = _open_prod(hub)
    hub.emu.submit_review(number, "carol", "APPROVE")
    with hub.emu.state.lock:
        pull = hub.emu.state.pulls[number]
        pull.body = re.sub(r"<!-- promobot:due .*? -->\n?", "", pull.body or "")
    return lambda h: h.deliver("schedule", {"schedule": "*/30 * * * *"})


FLOWS: dict[str, Flow] = {
    f.name: f
    for f in (
        Flow("open-pr", setup_open_pr),
        Flow("reevaluate", setup_reevaluate),
        Flow("rerequest", setup_rerequest),
        Flow("approvals", setup_approvals),
        Flow("promote-merge", setup_promote_comment),
        Flow("rollback-pr", setup_rollback_pr),
        Flow("direct-rollback", setup_direct_rollback),
        Flow("auto-promote", setup_auto_promote),
        Flow("verify-rollback", setup_verify_rollback),
        Flow("schedule", setup_schedule),
    )
}


def run_event(event: Event, hub: Hub) -> str:
    """Run ``event``; returns "ok" or the error it ended with (a ``BotError`` is an allowed end)."""
    try:
        event(hub)
    except BotError as exc:
        return f"{type(exc).__name__} (exit {exc.exit_code}): {exc.message}"
    return "ok"


# --------------------------------------------------------------------------- end state


def _norm(text: str, names: dict[str, str]) -> str:
    text = _SHA_RE.sub(lambda m: names.get(m.group(0), "<sha>"), text)
    text = _SHORT_SHA_RE.sub("<short-sha>", text)
    return _DURATION_RE.sub("<duration>", text)  # a command gate's run time


def snapshot(hub: Hub) -> dict[str, Any]:
    """The repository's end state, comparable across runs (trees and subjects, not SHAs)."""
    emu, state = hub.emu, hub.emu.state
    gd = str(emu.git_dir)
    with state.lock:
        state.sync()
        log = git(hub.work, "--git-dir", gd, "log", "--format=%H %T %s", "main").splitlines()
        names = {line.split(" ", 2)[0]: f"<main~{i}>" for i, line in enumerate(log)}
        refs = git(
            hub.work, "--git-dir", gd, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads"
        ).splitlines()
        branches = {}
        for line in refs:
            ref, sha = line.split(" ")
            branches[ref] = git(hub.work, "--git-dir", gd, "rev-parse", f"{sha}^{{tree}}")
            names.setdefault(sha, f"<{ref}>")

        def tree(sha: str) -> str:
            try:
                return git(hub.work, "--git-dir", gd, "rev-parse", f"{sha}^{{tree}}")
            except subprocess.CalledProcessError:
                return "<missing>"

        pulls = {
            n: {
                "state": p.state,
                "merged": p.merged,
                "head": p.head_ref,
                "head_tree": tree(state.head_sha(p)),
                "labels": sorted(p.labels),
                "title": p.title,
                "body": _norm(p.body or "", names),
            }
            for n, p in sorted(state.pulls.items())
        }
        comments = [
            (c.issue_number, c.user, _norm(c.body, names))
            for c in sorted(state.comments.values(), key=lambda c: c.id)
        ]
        runs = sorted(
            (tree(r.head_sha), r.name, r.app.slug, r.status, r.conclusion or "", r.title or "")
            for r in state.check_runs.values()
        )
        statuses = sorted((tree(s.sha), s.context, s.state, s.creator) for s in state.statuses)
        reactions = sorted((r.comment_id, r.user, r.content) for r in state.reactions)
        rejected = git(hub.work, "--git-dir", gd, "show", "main:environments/rejected.yaml")
        deployments = [
            (d.environment, d.task, tree(d.sha), tuple(x.state for x in state.statuses_of_deployment(d.id)))
            for d in sorted(state.deployments.values(), key=lambda d: d.id)
        ]
    return {
        "main": [line.split(" ", 1)[1] for line in log],
        "branches": branches,
        "pulls": pulls,
        "comments": comments,
        "check_runs": runs,
        "statuses": statuses,
        "reactions": reactions,
        "rejected": rejected,
        "deployments": deployments,
    }


def differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """One line per part of the end state that differs."""
    out = []
    for key in expected:
        if expected[key] != got[key]:
            out.append(f"{key}: expected {expected[key]!r}\n      got {got[key]!r}")
    return out


# --------------------------------------------------------------------------- the fault matrix


OUTAGE = "outage"
"""Not an emulator fault kind: requests k, k+1 and k+2 all answer 502 (retries exhausted)."""
MATRIX_KINDS = (*FAULT_KINDS, OUTAGE)


@dataclass
class Prepared:
    """A flow set up once (``hub`` is never run against: cases fork it) and its fault-free end."""

    flow: str
    hub: Hub
    event: Event
    expected: dict[str, Any]
    requests: int
    ended: str


@contextmanager
def prepare(flow: str, root: Path) -> Iterator[Prepared]:
    """Set ``flow`` up and record its fault-free end state and request count."""
    with fresh_hub(root / "setup") as hub:
        event = FLOWS[flow].setup(hub)
        with forked_hub(hub, root / "baseline") as base:
            base.emu.reset_counts()
            ended = run_event(event, base)
            requests = len(base.emu.requests)
            expected = snapshot(base)
        yield Prepared(flow, hub, event, expected, requests, ended)


@dataclass(frozen=True)
class Case:
    flow: str
    k: int
    kind: str
    first: str  # how the faulted run ended
    second: str  # how the re-run ended
    fault_hit: bool
    diffs: tuple[str, ...]

    @property
    def converged(self) -> bool:
        return not self.diffs

    @property
    def id(self) -> str:
        return f"{self.flow}/k{self.k}/{self.kind}"


def run_case(p: Prepared, k: int, kind: str, root: Path) -> Case:
    """Fail request ``k`` with ``kind``, run the event, re-run it, compare with the fault-free end."""
    with forked_hub(p.hub, root) as hub:
        hub.emu.reset_counts()
        if kind == OUTAGE:  # three 5xx in a row: the retries give up, the run ends with exit 3
            for i in range(3):
                hub.emu.fail(k + i, "5xx")
        else:
            hub.emu.fail(k, kind)  # type: ignore[arg-type]
        first = run_event(p.event, hub)
        hit = any(r.fault is not None for r in hub.emu.requests)
        second = run_event(p.event, hub)
        diffs = differences(p.expected, snapshot(hub))
        if hub.sleeps and max(hub.sleeps) > 60:
            diffs.append(f"a retry waited {max(hub.sleeps)} s (more than 60 s)")
    return Case(p.flow, k, kind, first, second, hit, tuple(diffs))


def environ_flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")

"""Fault injection on the GitHub path: every flow converges after a failed request and one re-run.

For each flow (``tests.github_setup.FLOWS``) the scenario is set up once and its
fault-free end state recorded; each case forks that scenario onto a new emulator, fails
request ``k`` with one fault kind, runs the event (it may end however it ends: a
``BotError`` such as ``OutageError`` is fine), runs it again without a fault, and compares
the end state with the fault-free one: same PRs (state, head tree, labels, title, body),
same commits on ``main`` (subjects and trees), same branches, the same check runs,
statuses, comments and reactions — nothing duplicated, nothing lost.

CI runs a reduced matrix (well under 3 minutes on 2 cores): every request index of the
two create-heavy flows (open a PR; ``/promote`` merge + chain) with ``drop-after`` (the
request is applied and the answer lost — the hardest fault: the bot must find what it
created instead of creating it twice), and for every flow × every fault kind a first,
a middle and a last request. ``python benchmarks/faults.py`` runs the full matrix.
Retry sleeps are recorded, never slept (``github_context(sleep=…)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.emulator import Emulator
from tests.github_setup import (
    FLOWS,
    MATRIX_KINDS,
    Prepared,
    prepare,
    run_case,
    run_event,
    setup_direct_rollback,
    setup_promote_comment,
)
from tests.helpers.git import git
from tests.helpers.rig import Hub

# Requests each flow makes fault-free today. test_every_request_of_the_every_index_flows_is_covered
# fails when a flow makes more, so that the every-index cases keep covering every index.
REQUESTS = {
    "open-pr": 7,
    "reevaluate": 7,
    "rerequest": 7,
    "approvals": 8,
    "promote-merge": 21,
    "rollback-pr": 7,
    "direct-rollback": 2,
    "auto-promote": 8,
    "verify-rollback": 24,
    "schedule": 7,
}
EVERY_INDEX = {"open-pr": "drop-after", "promote-merge": "drop-after"}


def _sampled(n: int, kind_index: int) -> list[int]:
    """First, last and a middle index that differs per fault kind."""
    middle = 1 + (n // 2 + kind_index) % n
    return sorted({1, middle, n})


def _cases() -> list[object]:
    cases: list[object] = []
    for flow, n in REQUESTS.items():
        for i, kind in enumerate(MATRIX_KINDS):
            ks = range(1, n + 1) if EVERY_INDEX.get(flow) == kind else _sampled(n, i)
            cases += [pytest.param(flow, k, kind, id=f"{flow}/k{k}/{kind}") for k in ks]
    return cases


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Prepared]]:
    """Each flow set up once per session (lazily), with its fault-free end state."""
    cache: dict[str, Prepared] = {}
    with ExitStack() as stack:

        class Lazy(dict[str, Prepared]):
            def __missing__(self, flow: str) -> Prepared:
                root = tmp_path_factory.mktemp(f"prepare-{flow}")
                cache[flow] = stack.enter_context(prepare(flow, root))
                self[flow] = cache[flow]
                return cache[flow]

        yield Lazy()


@pytest.mark.parametrize(("flow", "k", "kind"), _cases())
def test_a_flow_converges_after_a_failed_request_and_one_re_run(
    prepared: dict[str, Prepared], tmp_path: Path, flow: str, k: int, kind: str
) -> None:
    p = prepared[flow]
    assert p.ended == "ok", f"the fault-free {flow} run failed: {p.ended}"

    case = run_case(p, k, kind, tmp_path)

    if k <= p.requests:
        assert case.fault_hit, f"request {k} of {p.requests} was not failed"
    assert case.converged, f"{case.id}: first run: {case.first}; re-run: {case.second}\n" + "\n".join(
        case.diffs
    )
    assert "Traceback" not in case.first and "Traceback" not in case.second


@pytest.mark.parametrize("flow", sorted(EVERY_INDEX))
def test_every_request_of_the_every_index_flows_is_covered(prepared: dict[str, Prepared], flow: str) -> None:
    assert prepared[flow].requests <= REQUESTS[flow], (
        f"{flow} now makes {prepared[flow].requests} requests; raise REQUESTS[{flow!r}] so that "
        "every request index is failed once"
    )


def test_every_flow_runs_fault_free(prepared: dict[str, Prepared]) -> None:
    ended = {flow: prepared[flow].ended for flow in FLOWS}
    assert ended == dict.fromkeys(FLOWS, "ok")


# --------------------------------------------------------------------------- outages: regressions
# Found by the outage column of the matrix (fixed in b621789): an outage inside a slash-command
# was answered (so the re-run did nothing), a merged PR's unfinished chain was never finished,
# and an outage reading team members became a refusal.


def _outage_after(emu: Emulator, method: str, suffix: str, *, times: int = 3) -> None:
    """The ``times`` requests after the first ``method … suffix`` request all answer 502."""

    def arm() -> None:
        for n in range(1, times + 1):
            emu.fail(n, "5xx")

    emu.before(lambda m, t: m == method and t is not None and t.endswith(suffix), arm)


def _fail_matching(emu: Emulator, method: str, suffix: str, *, times: int = 3) -> None:
    """The next ``times`` ``method … suffix`` requests answer 502."""
    for _ in range(times):
        emu.before(lambda m, t: m == method and t is not None and t.endswith(suffix), lambda: "5xx")


def _bot_replies(hub: Hub) -> list[str]:
    return [c.body for c in hub.emu.state.comments.values() if c.user.endswith("[bot]")]


def test_an_outage_during_promote_is_finished_by_re_running_the_workflow(hub: Hub) -> None:
    event = setup_promote_comment(hub)
    _outage_after(hub.emu, "GET", "/pulls/{pull_number}/reviews")

    run_event(event, hub)  # ends however it ends (exit 3 expected)
    second = run_event(event, hub)

    assert second == "ok"
    assert hub.emu.state.pulls[1].merged
    replies = _bot_replies(hub)
    assert len(replies) == 1 and "merged as" in replies[0], replies


def test_an_outage_in_the_chain_after_a_promote_merge_is_finished_by_the_re_run(hub: Hub) -> None:
    event = setup_promote_comment(hub)
    _outage_after(hub.emu, "DELETE", "/git/refs/{ref}")  # the merged branch is deleted; the chain starts

    run_event(event, hub)
    second = run_event(event, hub)

    assert second == "ok"
    prod = hub.emu.state.pulls.get(2)
    assert prod is not None and prod.state == "open" and "promobot:env:prod" in prod.labels
    replies = _bot_replies(hub)
    assert len(replies) == 1 and "merged as" in replies[0] and "#2" in replies[0], replies


def test_an_outage_reading_team_members_is_an_outage_not_a_refusal(hub: Hub) -> None:
    event = setup_direct_rollback(hub)
    _fail_matching(hub.emu, "GET", "/teams/{team_slug}/members")

    first = run_event(event, hub)

    assert first.startswith("OutageError (exit 3)"), first


def test_an_outage_deleting_the_merged_branch_is_finished_by_the_re_run(hub: Hub) -> None:
    event = setup_promote_comment(hub)
    _fail_matching(hub.emu, "DELETE", "/git/refs/{ref}")

    first = run_event(event, hub)
    second = run_event(event, hub)

    assert first.startswith("OutageError (exit 3)"), first
    assert second == "ok"
    assert hub.emu.state.pulls[1].merged and hub.emu.state.pulls[2].state == "open"
    branches = git(
        hub.work, "--git-dir", str(hub.emu.git_dir), "for-each-ref", "--format=%(refname:short)", "refs/heads"
    ).splitlines()
    assert sorted(branches) == ["main", "promobot/prod/fraud-detector"]


def _start_shared_prometheus(_: int) -> tuple[int, str]:
    """In a pool worker, as ``benchmarks/faults.py --jobs N`` does for the verify flows. Its
    workers start with no server (the parent never starts one); here the parent may be a pytest
    worker that did (the verify flows), so what the fork copied is dropped first."""
    import os

    from tests import verify_setup

    verify_setup._SERVER.clear()
    return os.getpid(), verify_setup.shared_prometheus().log.parent.name


def test_a_pool_worker_s_prometheus_stops_when_the_worker_exits() -> None:
    """A pool worker ends with os._exit (no atexit): its Prometheus used to outlive the run."""
    import shutil
    import subprocess
    from concurrent.futures import ProcessPoolExecutor

    from tests.servers import unavailable

    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        unavailable("prometheus/promtool not installed — run .ci/install-prometheus.sh")
    with ProcessPoolExecutor(max_workers=1) as pool:
        ((_, folder),) = list(pool.map(_start_shared_prometheus, [0]))
    assert folder.startswith("promobot-prometheus-")
    left = subprocess.run(["pgrep", "-f", folder], capture_output=True, text=True, check=False).stdout
    assert left.split() == [], f"a Prometheus of {folder} still runs: {left}"

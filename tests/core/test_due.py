"""The due marker: when a PR's evaluation can next change with time alone (bot.core.due)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.due import (
    DUE_VERSION,
    HEAD_PLACEHOLDER,
    Due,
    due_reason,
    inputs_digest,
    model_inputs,
    name_head,
    next_change,
    parse_due,
    pr_flags,
    render_due,
)
from bot.core.model import GateResult

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HEAD = "a" * 40
INPUTS = "0123456789abcdef"


def gate(kind: str, result: str, until: datetime | None = None) -> GateResult:
    return GateResult(kind, kind, result, "why", until=until)  # type: ignore[arg-type]


def test_a_pr_waiting_only_for_people_is_never_due() -> None:
    results = [gate("schema", "success"), gate("metric", "success"), gate("soak", "success")]
    assert next_change(results, ready=False, auto_merge=True) == "never"
    assert next_change(results, ready=True, auto_merge=False) == "never"  # waits for /promote


def test_failing_gates_that_only_git_can_change_wait_for_a_push() -> None:
    results = [gate("metric", "failure"), gate("compare", "failure"), gate("not-rejected", "failure")]
    assert next_change(results, ready=False, auto_merge=True) == "never"


def test_the_earliest_until_of_the_pending_time_gates() -> None:
    soak, freeze, verified = NOW + timedelta(hours=5), NOW + timedelta(hours=2), NOW + timedelta(hours=9)
    results = [
        gate("soak", "pending", soak),
        gate("freeze", "pending", freeze),
        gate("verified", "pending", verified),
    ]
    assert next_change(results, ready=False, auto_merge=False) == freeze


@pytest.mark.parametrize(
    "results",
    [
        [gate("freeze", "pending")],  # open-ended freeze: no known end
        [gate("prometheus", "pending")],  # live data
        [gate("command", "failure")],
        [gate("artifact", "failure")],
        [gate("registry", "pending")],
        [gate("soak", "pending", NOW), gate("prometheus", "failure")],
    ],
)
def test_what_the_world_outside_git_can_change_is_due_every_run(results: list[GateResult]) -> None:
    assert next_change(results, ready=False, auto_merge=False) == "always"


def test_a_ready_auto_merge_pr_that_is_still_open_is_retried_every_run() -> None:
    assert next_change([gate("soak", "success")], ready=True, auto_merge=True) == "always"


@pytest.mark.parametrize("when", ["never", "always", NOW + timedelta(hours=3)])
def test_the_marker_round_trips(when: datetime | str) -> None:
    due = Due(when, INPUTS, HEAD)  # type: ignore[arg-type]
    body = f"Promote x\n\n<!-- promobot:state {{}} -->\n{render_due(due)}\n"
    assert parse_due(body) == due
    assert f'"v":{DUE_VERSION}' in render_due(due)


@pytest.mark.parametrize(
    "marker",
    [
        None,
        "",
        "<!-- promobot:due not json -->",
        '<!-- promobot:due {"v":0,"next":"never","inputs":"0123456789abcdef"} -->',
        '<!-- promobot:due {"next":"never","inputs":"0123456789abcdef"} -->',
        '<!-- promobot:due {"v":1,"next":"soon","inputs":"0123456789abcdef"} -->',
        '<!-- promobot:due {"v":1,"next":"2026-13-45T99:00:00Z","inputs":"0123456789abcdef"} -->',
        '<!-- promobot:due {"v":1,"next":"never","inputs":"short"} -->',
        '<!-- promobot:due {"v":1,"next":"never","inputs":"0123456789abcdef","head":"HEAD"} -->',
        '<!-- promobot:due {"v":1,"next":"never","inputs":"0123456789abcdef"} -->\n'
        '<!-- promobot:due {"v":1,"next":"never","inputs":"0123456789abcdef"} -->',  # two: trust neither
        "[]",
    ],
)
def test_a_marker_it_cannot_read_is_none(marker: str | None) -> None:
    assert parse_due(marker) is None
    assert due_reason(parse_due(marker), head_sha=HEAD, inputs=INPUTS, now=NOW) == "no current due marker"


def test_only_a_marker_for_this_head_these_inputs_and_a_past_time_is_due() -> None:
    later = NOW + timedelta(hours=1)
    assert due_reason(Due("never", INPUTS, HEAD), head_sha=HEAD, inputs=INPUTS, now=NOW) is None
    assert due_reason(Due(later, INPUTS, HEAD), head_sha=HEAD, inputs=INPUTS, now=NOW) is None
    assert due_reason(Due(later, INPUTS, HEAD), head_sha=HEAD, inputs=INPUTS, now=later) == "its time came"
    assert due_reason(Due("always", INPUTS, HEAD), head_sha=HEAD, inputs=INPUTS, now=NOW) is not None
    assert due_reason(Due("never", INPUTS, "b" * 40), head_sha=HEAD, inputs=INPUTS, now=NOW) is not None
    assert due_reason(Due("never", INPUTS, None), head_sha=HEAD, inputs=INPUTS, now=NOW) is not None
    assert (
        due_reason(Due("never", INPUTS, HEAD_PLACEHOLDER), head_sha=HEAD, inputs=INPUTS, now=NOW) is not None
    )
    assert due_reason(Due("never", "f" * 16, HEAD), head_sha=HEAD, inputs=INPUTS, now=NOW) is not None


def test_the_inputs_cover_the_policy_the_rejections_and_every_environment_of_the_model() -> None:
    ids = {
        "environments/promotion.yaml": "p1",
        "environments/rejected.yaml": "r1",
        "environments/dev/m.yaml": "d1",
        "environments/prod/m.yaml": "x1",
        "environments/prod/other.yaml": "o1",
    }

    def digest(**changed: str) -> str:
        blobs = model_inputs(
            {**ids, **changed},
            model="m",
            envs=("dev", "staging", "prod"),
            policy_path="environments/promotion.yaml",
            rejected_path="environments/rejected.yaml",
        )
        return inputs_digest(blobs)

    base = digest()
    assert digest(**{"environments/prod/other.yaml": "o2"}) == base  # another model: not an input
    for path in ("environments/promotion.yaml", "environments/rejected.yaml", "environments/dev/m.yaml"):
        assert digest(**{path: "changed"}) != base, path
    assert digest(**{"environments/staging/m.yaml": "new"}) != base  # appeared in staging


def test_a_draft_or_hold_the_evaluation_did_not_see_makes_the_pr_due() -> None:
    held = pr_flags(draft=False, labels=("promobot:promotion", "promobot:hold"), hold_label="promobot:hold")
    assert held == ("hold",)
    assert pr_flags(draft=True, labels=(), hold_label="promobot:hold") == ("draft",)
    marker = parse_due(render_due(Due("never", INPUTS, HEAD, held)))
    assert marker == Due("never", INPUTS, HEAD, ("hold",))
    assert due_reason(marker, head_sha=HEAD, inputs=INPUTS, now=NOW, flags=held) is None
    lifted = due_reason(marker, head_sha=HEAD, inputs=INPUTS, now=NOW, flags=())
    assert lifted == "the draft state or the hold label changed"
    unknown = render_due(Due("never", INPUTS, HEAD)).replace('"head"', '"flags":["admin"],"head"')
    assert parse_due(unknown) is None


def test_name_head_fills_the_placeholder_a_plan_rendered_and_nothing_else() -> None:
    digest = inputs_digest({"environments/promotion.yaml": "x"})
    marker = render_due(Due(next="never", inputs=digest, head=HEAD_PLACEHOLDER))
    body = f"text {HEAD_PLACEHOLDER}\n{marker}\n"
    named = name_head(body, "a" * 40)
    assert parse_due(named) == Due(next="never", inputs=digest, head="a" * 40)
    assert named.startswith(f"text {HEAD_PLACEHOLDER}\n")  # only the marker's head changes
    assert name_head(body, None) == body

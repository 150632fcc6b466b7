"""bot/app/assess.py: one ``assess_pr`` for a promotion, a rollback and a reject PR — gates,
approvals, blockers, checks and a body that carries the due marker the schedule reads."""

from __future__ import annotations

from bot.app.assess import NO_GATES, assess, assess_pr, model_inputs, with_due
from bot.app.facts import pr_context
from bot.core.due import HEAD_PLACEHOLDER, parse_due
from bot.core.marker import parse_state
from bot.core.model import LABEL_HOLD
from bot.core.paths import REJECTED_PATH
from tests.conftest import Cli
from tests.helpers.git import commit_all, git
from tests.helpers.local import PROD, bad_prod_and_its_rollback, local_context

PROD_GATES = ["metric", "compare", "compare", "soak", "freeze", "artifact", "command"]


def test_a_promotion_is_judged_by_its_environments_gates_and_approvals(people: Cli) -> None:
    number = people.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"]
    ctx = local_context(people.repo)
    pc = pr_context(ctx, number)
    a = assess_pr(ctx, pc)
    assert a.env is not None and a.env.name == "prod" and a.path == PROD
    assert (a.candidate and a.candidate.version, a.incumbent and a.incumbent.version) == ("1.4.2", "1.4.1")
    assert [r.kind for r in a.results if r.kind in PROD_GATES] == PROD_GATES
    assert a.gates_outcome == "success" and a.checks.gates[0] == "success"
    assert a.verdict.required == 2 and a.verdict.counted == ()
    assert [(b.kind, str(b)) for b in a.blockers] == [("approvals", "approvals: 0 of 2")]
    assert not a.ready and a.checks.ready[:2] == ("pending", "1 blocker(s): approvals: 0 of 2")
    assert parse_state(a.body) == pc.state
    due = parse_due(a.body)
    assert due is not None and (due.next, due.head, due.flags) == ("never", pc.pr.head_sha, ())
    assert due.inputs == model_inputs(ctx, pc.base_sha, a.policy, "fraud-detector")


def test_a_rollback_runs_no_soak_or_compare_and_merges_under_rollback_approvals(people: Cli) -> None:
    number, bad = bad_prod_and_its_rollback(people)
    ctx = local_context(people.repo)
    a = assess_pr(ctx, pr_context(ctx, number))
    assert a.state.action == "rollback" and a.state.rollback_of == bad
    assert a.candidate is not None and a.candidate.version == "1.4.1"
    kinds = {r.kind for r in a.results}
    assert not kinds & {"soak", "compare", "verified"} and {"metric", "freeze", "artifact"} <= kinds
    assert a.verdict.required == 1  # rollback.approvals, not prod's 2
    assert [b.kind for b in a.blockers] == ["approvals"]
    assert parse_due(a.body) is not None


def test_a_reject_pr_runs_no_gates_and_its_body_shows_the_entry(people: Cli) -> None:
    number = people.json("reject", "fraud-detector", "1.5.0", "--reason", "leaks labels", actor="sam")["pr"]
    ctx = local_context(people.repo)
    pc = pr_context(ctx, number)
    a = assess_pr(ctx, pc)
    assert (a.env, a.results, a.path, a.candidate) == (None, [], REJECTED_PATH, None)
    assert a.checks.gates[:2] == ("success", NO_GATES)
    assert a.verdict.required == 1 and [str(b) for b in a.blockers] == ["approvals: 0 of 1"]
    assert "leaks labels" in a.body
    due = parse_due(a.body)
    assert due is not None and (due.next, due.head) == ("never", pc.pr.head_sha)


def test_a_plan_not_yet_written_gets_a_placeholder_head_and_a_pr_its_flags(people: Cli) -> None:
    number = people.json("promote", "fraud-detector", "--to", "prod")["pr"]
    ctx = local_context(people.repo)
    pc = pr_context(ctx, number)
    planned = assess(
        ctx,
        state=pc.state,
        base_sha=pc.base_sha,
        new_text=pc.new_text,
        old_text=pc.old_text,
        source=pc.source,
        pr=None,
        head_sha=None,
    )
    due = parse_due(planned.body)
    assert due is not None and due.head == HEAD_PLACEHOLDER
    assert [b.kind for b in planned.blockers] == ["approvals"]  # no head: no scope or foreign checks
    held = pc.pr._replace(draft=True, labels=(*pc.pr.labels, LABEL_HOLD))
    body = with_due(
        ctx,
        "the body\n\n",
        base_sha=pc.base_sha,
        policy=planned.policy,
        model="fraud-detector",
        head_sha=pc.pr.head_sha,
        pr=held,
        due="always",
    )
    assert body.startswith("the body\n<!-- promobot:due ") and body.endswith(" -->\n")
    marked = parse_due(body)
    assert marked is not None and (marked.next, marked.head, marked.flags) == (
        "always",
        pc.pr.head_sha,
        ("draft", "hold"),
    )


def test_the_inputs_digest_follows_only_what_evaluating_the_model_reads(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    policy = ctx.policy(ctx.tip())

    def digest() -> str:
        return model_inputs(ctx, git(cli.repo, "rev-parse", "main"), policy, "fraud-detector")

    before = digest()
    other = cli.repo / "environments" / "prod" / "spam-filter.yaml"
    other.write_text(other.read_text() + "# another model\n")
    commit_all(cli.repo, "another model's manifest")
    assert digest() == before
    for path in (PROD, REJECTED_PATH, "environments/promotion.yaml"):
        changed = digest()
        (cli.repo / path).write_text((cli.repo / path).read_text() + "# edited\n")
        commit_all(cli.repo, f"edit {path}")
        assert digest() != changed, path


def test_a_target_manifest_that_does_not_load_fails_the_compare_gates_closed(people: Cli) -> None:
    number = people.json("promote", "fraud-detector", "--to", "prod")["pr"]
    (people.repo / PROD).write_text(
        (people.repo / PROD).read_text().replace("version: 1.4.1", "version: [", 1)
    )
    commit_all(people.repo, "a broken prod manifest")
    ctx = local_context(people.repo)
    a = assess_pr(ctx, pr_context(ctx, number))
    assert a.incumbent is None
    compare = [r for r in a.results if r.kind == "compare"]
    assert len(compare) == 2 and {r.result for r in compare} == {"failure"}
    assert all(r.reason.startswith(f"{PROD} on main does not load — fix it first: ") for r in compare)
    assert a.gates_outcome == "failure" and not a.ready

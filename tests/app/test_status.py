"""bot/app/status.py: every model in every environment, drift, rejected versions, invalid
manifests and open promobot pull requests — called directly, with the manifest cache cold
and warm."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.adapters.git import GitWorkspace
from bot.adapters.localforge import LocalForge
from bot.app.context import Context
from bot.app.status import TABLE_KEY, PrSummary, StatusReport, status, summarize, summary_key
from tests.conftest import Cli
from tests.helpers.git import commit_all, commit_to, git
from tests.helpers.local import local_context

REJECTED = "environments/rejected.yaml"
STAGING_FRAUD = "environments/staging/fraud-detector.yaml"


def counting(ctx: Context) -> list[int]:
    """Make ``ctx`` record how many manifests each ``ctx.map`` call parses (cache misses)."""
    parsed: list[int] = []

    def map_counting(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        parsed.append(len(items))
        return [fn(item) for item in items]

    ctx.map = map_counting
    return parsed


def reject(repo: Path, model: str, version: str) -> None:
    path = repo / REJECTED
    path.write_text(
        path.read_text().replace("rejected: []", "rejected:\n")
        + f'  - {{model: {model}, version: "{version}", reason: broke checkout, by: sam,'
        ' at: "2026-11-20T09:00:00Z"}\n'
    )
    commit_all(repo, f"reject {model} {version}")


def test_drift_names_each_environment_behind_its_source(cli: Cli) -> None:
    report = status(local_context(cli.repo))
    assert report.drift == {
        "churn-predictor": ["staging does not have it yet (dev runs 0.3.0)"],
        "fraud-detector": ["staging runs 1.4.2, dev runs 1.5.0", "prod runs 1.4.1, staging runs 1.4.2"],
        "spam-filter": ["prod runs 3.1.0, staging runs 3.2.0"],
    }  # search-ranker runs 2.1.0 everywhere; churn-predictor's missing prod is not staging's drift
    assert report.errors == {} and report.rejected == {} and report.pull_requests == []
    assert report.registry is None and report.verification is None
    assert set(report.to_json()) == {"environments", "models", "errors", "drift", "rejected", "pull_requests"}


def test_rejected_versions_are_flagged_where_they_run(cli: Cli) -> None:
    reject(cli.repo, "fraud-detector", "1.4.2")  # runs in staging
    reject(cli.repo, "spam-filter", "3.0.0")  # runs nowhere: nothing to flag
    report = status(local_context(cli.repo))
    assert report.rejected == {"fraud-detector": ["staging"]}
    assert report.to_json()["rejected"] == {"fraud-detector": ["staging"]}
    reject(cli.repo, "spam-filter", "3.2.0")  # dev and staging
    assert status(local_context(cli.repo)).rejected == {
        "fraud-detector": ["staging"],
        "spam-filter": ["dev", "staging"],
    }


def test_an_invalid_manifest_is_reported_and_keeps_the_rest_of_its_row(cli: Cli) -> None:
    path = cli.repo / STAGING_FRAUD
    path.write_text(path.read_text().replace("auc: 0.931", 'auc: "high"'))
    commit_all(cli.repo, "break staging's fraud-detector")
    report = status(local_context(cli.repo))
    assert list(report.errors) == [STAGING_FRAUD]
    assert "auc" in report.errors[STAGING_FRAUD] and "number" in report.errors[STAGING_FRAUD]
    assert report.models["fraud-detector"] == {"dev": "1.5.0", "staging": None, "prod": "1.4.1"}
    assert "fraud-detector" not in report.drift  # both pairs touch the broken manifest


def test_the_manifest_cache_hit_gives_the_same_report_as_the_miss(cli: Cli) -> None:
    path = cli.repo / STAGING_FRAUD
    path.write_text(path.read_text().replace("version: 1.4.2", "version: 1.10"))
    commit_all(cli.repo, "an invalid manifest is cached as its error")
    assert not (cli.repo / ".git/promobot/cache.json").exists()
    cold = local_context(cli.repo)
    cold_parsed = counting(cold)
    first = status(cold)
    assert cold_parsed == [10]  # the example's 10 manifests, each parsed once
    warm = local_context(cli.repo)
    warm_parsed = counting(warm)
    assert status(warm) == first and warm_parsed == []  # all from the cache, the error too
    assert STAGING_FRAUD in first.errors

    blob = git(cli.repo, "rev-parse", f"main:{STAGING_FRAUD}")
    assert warm.cache is not None and warm.cache.get(summary_key(blob, STAGING_FRAUD)) == [
        None,
        first.errors[STAGING_FRAUD],
    ]
    dev = "environments/dev/fraud-detector.yaml"
    warm.cache.put(summary_key(git(cli.repo, "rev-parse", f"main:{dev}"), dev), ["1.5.0", "both?"])
    warm.cache.flush()  # an entry of the wrong shape is a miss, never believed
    (cli.repo / ".git/promobot/status.json").unlink()  # (the table would answer before the entries)
    again = local_context(cli.repo)
    again_parsed = counting(again)
    assert status(again) == first and again_parsed == [1]


def _no_cache(ctx: Context) -> Context:
    return dataclasses.replace(ctx, cache=None)


def test_a_warm_status_reads_the_table_of_its_environments_tree_and_says_what_a_cold_one_says(
    cli: Cli,
) -> None:
    reject(cli.repo, "spam-filter", "3.2.0")  # runs in dev and staging
    path = cli.repo / STAGING_FRAUD
    path.write_text(path.read_text().replace("auc: 0.931", 'auc: "high"'))
    commit_all(cli.repo, "break staging's fraud-detector")
    truth = status(_no_cache(local_context(cli.repo)))
    assert truth.rejected == {"spam-filter": ["dev", "staging"]} and STAGING_FRAUD in truth.errors
    assert "fraud-detector" not in truth.drift and truth.drift  # drift is computed from the table too
    assert status(local_context(cli.repo)) == truth  # cold: fills the summaries and the table
    (cli.repo / ".git/promobot/cache.json").unlink()  # no manifest summary left to look up
    warm = local_context(cli.repo)
    parsed = counting(warm)
    assert status(warm) == truth and parsed == []  # the table of this tree answered
    assert warm.cache is not None
    stored = warm.cache.get(TABLE_KEY)
    assert isinstance(stored, dict) and stored["tree"] == git(cli.repo, "rev-parse", "main:environments")

    dev = cli.repo / "environments/dev/churn-predictor.yaml"
    dev.write_text(dev.read_text().replace("version: 0.3.0", "version: 0.4.0"))
    commit_all(cli.repo, "a new tree: the table is of the old one")
    changed = local_context(cli.repo)
    parsed = counting(changed)
    report = status(changed)
    assert parsed == [10]  # the summaries were removed above: every manifest parsed again
    assert report == status(_no_cache(local_context(cli.repo)))
    assert report.models["churn-predictor"]["dev"] == "0.4.0"
    again = local_context(cli.repo)
    parsed = counting(again)
    assert status(again) == report and parsed == []


def test_a_table_of_another_shape_or_other_environments_is_a_miss(cli: Cli) -> None:
    truth = status(local_context(cli.repo))
    tree = git(cli.repo, "rev-parse", "main:environments")
    stored = local_context(cli.repo).cache
    assert stored is not None
    good = stored.get(TABLE_KEY)
    assert isinstance(good, dict)
    models: dict[str, Any] = good["models"]
    forged = {**models, "fraud-detector": {**models["fraud-detector"], "prod": "9.9.9"}}
    for bad in (
        {**good, "models": {**forged, "fraud-detector": {"dev": 1, "staging": None, "prod": None}}},
        {**good, "models": {"zz": models["fraud-detector"], **models}},  # not sorted
        {**good, "names": ["dev", "prod"], "models": forged},  # other environments
        {**good, "tree": "0" * 40, "models": forged},  # another tree
        {**good, "errors": {"not/a/manifest": "x"}, "models": forged},
        {**good, "errors": {"environments/dev/x.yaml": 3}, "models": forged},
        [tree, forged],
    ):
        ctx = local_context(cli.repo)
        assert ctx.cache is not None
        ctx.cache.put(TABLE_KEY, bad)
        ctx.cache.flush()
        assert status(local_context(cli.repo)) == truth, bad
    (cli.repo / ".git/promobot/status.json").write_text(
        '{"format": "promobot-status", "version": 1, "entries"'
    )
    assert status(local_context(cli.repo)) == truth  # a torn file is rebuilt


def test_rejected_versions_are_flagged_in_the_order_of_the_files_in_git(cli: Cli) -> None:
    """``prod-eu`` comes after ``prod`` in the policy and in Python's order, before it in git's
    tree (``prod-eu/`` < ``prod/``): the table (a hit or a miss) keeps git's order, as the
    listing it replaces did."""
    policy = cli.repo / "environments/promotion.yaml"
    text = policy.read_text()
    policy.write_text(text.replace("\nrollback:", "  - name: prod-eu\n    from: staging\n\nrollback:", 1))
    eu = cli.repo / "environments/prod-eu/spam-filter.yaml"
    eu.parent.mkdir()
    eu.write_text((cli.repo / "environments/prod/spam-filter.yaml").read_text())
    commit_all(cli.repo, "a prod-eu environment")
    reject(cli.repo, "spam-filter", "3.1.0")  # runs in prod and prod-eu
    expected = {"spam-filter": ["prod-eu", "prod"]}
    assert status(_no_cache(local_context(cli.repo))).rejected == expected
    assert status(local_context(cli.repo)).rejected == expected  # a miss
    assert status(local_context(cli.repo)).rejected == expected  # a hit


def test_summarize_is_the_version_or_the_error_of_one_manifest(cli: Cli) -> None:
    raw = (cli.repo / STAGING_FRAUD).read_bytes()
    assert summarize((STAGING_FRAUD, "fraud-detector", raw)) == ("1.4.2", None)
    version, error = summarize((STAGING_FRAUD, "spam-filter", raw))  # the file name says another model
    assert version is None and error is not None and "spam-filter" in error


def test_open_prs_are_listed_with_their_readiness_and_others_are_not(people: Cli) -> None:
    cli = people
    prod = cli.json("promote", "fraud-detector", "--to", "prod", actor="alice")["pr"]
    staging = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice")["pr"]
    rejecting = cli.json("reject", "spam-filter", "3.2.0", "--reason", "spam gets through", actor="sam")["pr"]
    cli("pr", "review", str(prod), "--approve", actor="carol")
    cli("pr", "review", str(prod), "--approve", actor="dave")
    commit_to(cli.repo, "feature", {"docs/notes.md": "a person's branch\n"})
    LocalForge(GitWorkspace.discover(cli.repo)).open_pr(
        head="feature", base="main", title="Notes", body="not promobot's", author="erin"
    )
    report: StatusReport = status(local_context(cli.repo))
    assert {p.number: p for p in report.pull_requests} == {
        prod: PrSummary(
            prod,
            "promote",
            "fraud-detector",
            "staging",
            "prod",
            "1.4.2",
            True,
            "Promote fraud-detector 1.4.2 to prod",
        ),
        staging: PrSummary(
            staging,
            "promote",
            "fraud-detector",
            "dev",
            "staging",
            "1.5.0",
            False,
            "Promote fraud-detector 1.5.0 to staging",
        ),
        rejecting: PrSummary(
            rejecting, "reject", "spam-filter", None, None, "3.2.0", False, "Reject spam-filter 3.2.0"
        ),
    }
    row = next(p for p in report.to_json()["pull_requests"] if p["number"] == rejecting)
    assert (row["from"], row["to"], row["action"]) == (None, None, "reject")

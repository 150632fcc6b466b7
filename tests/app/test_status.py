"""bot/app/status.py: every model in every environment, drift, rejected versions, invalid
manifests and open promobot pull requests — called directly, with the manifest cache cold
and warm."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.adapters.git import GitWorkspace
from bot.adapters.localforge import LocalForge
from bot.app.context import Context
from bot.app.status import PrSummary, StatusReport, status, summarize, summary_key
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
    again = local_context(cli.repo)
    again_parsed = counting(again)
    assert status(again) == first and again_parsed == [1]


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

"""bot/app/context.py: the Context's view of the default branch, the overview the read-only
commands share (and its cache), and the name checks every verb runs first."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.context import Overview, check_env, check_model_name, overview, read_manifest
from bot.core.model import NAME_RULE, Rejection
from bot.core.paths import POLICY_PATH, REJECTED_PATH
from bot.errors import ManifestError, UsageError
from tests.conftest import Cli
from tests.helpers.git import commit_all, git, init_repo
from tests.helpers.local import local_context

EXAMPLE_ENVS = (("dev", None), ("staging", "dev"), ("prod", "staging"))
REJECTED_LINE = (
    "rejected:\n"
    "  - {model: fraud-detector, version: 1.5.0, reason: leaks labels, by: sam, "
    'at: "2026-11-20T10:00:00Z"}\n'
)


def test_tip_policy_and_rejected_come_from_the_default_branch_not_the_checked_out_one(cli: Cli) -> None:
    main = git(cli.repo, "rev-parse", "main")
    git(cli.repo, "checkout", "-q", "-b", "side")
    policy = cli.repo / POLICY_PATH
    policy.write_text(policy.read_text().replace("  - name: prod\n    from: staging\n", "  - name: qa\n"))
    (cli.repo / REJECTED_PATH).write_text(REJECTED_LINE)
    side = commit_all(cli.repo, "a side branch with another policy")

    ctx = local_context(cli.repo)
    assert ctx.default_branch == "main" and ctx.tip() == main
    assert ctx.policy(ctx.tip()).names == ("dev", "staging", "prod")
    assert ctx.rejected(ctx.tip()) == ()
    # A commit is read as it is when asked for by SHA (a PR's base is always the tip above).
    assert ctx.policy(side).names == ("dev", "staging", "qa")
    assert [(r.model, r.version, r.by) for r in ctx.rejected(side)] == [("fraud-detector", "1.5.0", "sam")]
    assert ctx.policy(main) is ctx.policy(main)  # parsed once per commit


def test_a_default_branch_without_commits_or_policy_says_what_to_commit(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "empty")
    with pytest.raises(UsageError) as no_commits:
        local_context(repo).tip()
    assert "'main' has no commits" in no_commits.value.message
    assert no_commits.value.hint == "commit the environments/ folder first"

    (repo / "README.md").write_text("no environments yet\n")
    commit_all(repo, "readme only")
    ctx = local_context(repo)
    for read in (ctx.policy, lambda sha: overview(ctx, sha)):
        with pytest.raises(UsageError) as no_policy:
            read(ctx.tip())
        assert no_policy.value.what == f"no {POLICY_PATH} on main"
        assert no_policy.value.hint is not None and "promotion policy" in no_policy.value.hint


def test_overview_gives_environments_rejections_and_what_the_policy_turns_on(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    assert overview(ctx, ctx.tip()) == Overview(EXAMPLE_ENVS, (), mlflow=False, verify=())

    (cli.repo / REJECTED_PATH).write_text(REJECTED_LINE)
    commit_all(cli.repo, "reject 1.5.0")
    seen = overview(local_context(cli.repo), git(cli.repo, "rev-parse", "main"))
    assert seen.names == ("dev", "staging", "prod")
    assert seen.rejected == (
        Rejection("fraud-detector", "1.5.0", "leaks labels", "sam", "2026-11-20T10:00:00Z"),
    )


def test_overview_believes_a_cache_entry_only_for_exactly_the_text_it_was_parsed_from(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    raw = ctx.ws.read(ctx.tip(), POLICY_PATH)
    assert raw is not None and ctx.cache is not None
    planted = [[["dev", None], ["qa", "dev"]], False, []]
    ctx.cache.put("p", [raw.decode(), planted])
    assert overview(ctx, ctx.tip()).names == ("dev", "qa")  # this text's entry: no parse
    assert ctx._policies == {}

    ctx = local_context(cli.repo)
    assert ctx.cache is not None
    ctx.cache.put("p", [raw.decode() + "# edited since\n", planted])
    assert overview(ctx, ctx.tip()).environments == EXAMPLE_ENVS  # other text: parsed again
    assert ctx.cache.get("p") == [raw.decode(), [[list(e) for e in EXAMPLE_ENVS], False, []]]


@pytest.mark.parametrize(
    "shape",
    [
        "not a list",
        [[["dev", None]], False],
        [[["dev", None]], 0, []],
        [[["dev", None, "x"]], False, []],
        [[["dev", 1]], False, []],
        [[[7, None]], False, []],
        [[], False, []],
        [[["dev", None]], False, ["qa"]],
        [[["dev", None]], False, "dev"],
    ],
    ids=[
        "string",
        "two-fields",
        "mlflow-not-bool",
        "row-of-three",
        "from-not-string",
        "name-not-string",
        "no-environments",
        "verify-unknown-env",
        "verify-not-list",
    ],
)
def test_overview_parses_again_when_the_cached_policy_outline_has_the_wrong_shape(
    cli: Cli, shape: object
) -> None:
    ctx = local_context(cli.repo)
    raw = ctx.ws.read(ctx.tip(), POLICY_PATH)
    assert raw is not None and ctx.cache is not None
    ctx.cache.put("p", [raw.decode(), shape])
    assert overview(ctx, ctx.tip()).environments == EXAMPLE_ENVS
    assert list(ctx._policies) == [ctx.tip()]  # parsed from git
    assert ctx.cache.get("p") == [raw.decode(), [[list(e) for e in EXAMPLE_ENVS], False, []]]  # rewritten


@pytest.mark.parametrize(
    "shape",
    [
        "rejected",
        [["fraud-detector", "1.5.0"]],
        [[1, 2, 3, 4, 5]],
        [["a", "b", "c", "d", None]],
        {"x": 1},
        [["a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e", "f"]],
        [["a", "b", "c", "d", "e"], "abcde"],
        [["a", "b", "c", "d", ["e"]]],
    ],
    ids=[
        "string",
        "row-of-two",
        "numbers",
        "a-none",
        "dict",
        "a-later-row-of-six",
        "a-row-not-a-list",
        "a-list-field",
    ],
)
def test_overview_parses_again_when_the_cached_rejections_have_the_wrong_shape(
    cli: Cli, shape: object
) -> None:
    (cli.repo / REJECTED_PATH).write_text(REJECTED_LINE)
    commit_all(cli.repo, "reject 1.5.0")
    ctx = local_context(cli.repo)
    raw = ctx.ws.read(ctx.tip(), REJECTED_PATH)
    assert raw is not None and ctx.cache is not None
    ctx.cache.put("r", [raw.decode(), shape])
    found = overview(ctx, ctx.tip()).rejected
    assert [(r.model, r.version, r.reason) for r in found] == [("fraud-detector", "1.5.0", "leaks labels")]
    assert ctx.cache.get("r") == [
        raw.decode(),
        [["fraud-detector", "1.5.0", "leaks labels", "sam", "2026-11-20T10:00:00Z"]],
    ]


@pytest.mark.parametrize(
    ("name", "what", "hint"),
    [
        (
            "fraud-detector.yaml",
            "'fraud-detector.yaml' is a file name, not a model name",
            "name the model: fraud-detector",
        ),
        (
            "fraud-detector.yml",
            "'fraud-detector.yml' is a file name, not a model name",
            "name the model: fraud-detector",
        ),
        ("../etc/passwd", "'../etc/passwd' is not a valid model name", NAME_RULE),
        ("Fraud Detector", "'Fraud Detector' is not a valid model name", NAME_RULE),
        ("", "'' is not a valid model name", NAME_RULE),
        ("a" * 81 + "/", f"'{'a' * 80}…' is not a valid model name", NAME_RULE),
    ],
    ids=["yaml-file", "yml-file", "path", "spaces", "empty", "long-is-cut"],
)
def test_check_model_name_refuses_with_what_to_type_instead(name: str, what: str, hint: str) -> None:
    with pytest.raises(UsageError) as refused:
        check_model_name(name)
    assert (refused.value.what, refused.value.hint) == (what, hint)


def test_check_model_name_returns_a_valid_name_and_check_env_lists_the_environments(cli: Cli) -> None:
    assert check_model_name("fraud-detector") == "fraud-detector"
    ctx = local_context(cli.repo)
    policy = ctx.policy(ctx.tip())
    assert check_env(policy, "prod") == "prod"
    typed = "qa\n" + "x" * 100
    with pytest.raises(UsageError) as unknown:
        check_env(policy, typed)
    assert unknown.value.what == f"unknown environment {typed[:80]!r}"  # cut, and quoted: no raw newline
    assert unknown.value.hint == f"environments in {POLICY_PATH}: dev, staging, prod"


def test_read_manifest_reads_the_commit_asked_for_and_checks_the_name(cli: Cli) -> None:
    ctx = local_context(cli.repo)
    tip = ctx.tip()
    raw, found = read_manifest(ctx, tip, "staging", "fraud-detector")
    assert (
        found is not None
        and found.version == "1.4.2"
        and raw == ctx.ws.read(tip, "environments/staging/fraud-detector.yaml")
    )
    assert read_manifest(ctx, tip, "prod", "churn-predictor") == (None, None)
    staging = cli.repo / "environments" / "staging"
    (staging / "copied.yaml").write_text((staging / "fraud-detector.yaml").read_text())
    commit_all(cli.repo, "a manifest whose name is not its file's")
    with pytest.raises(ManifestError):
        read_manifest(ctx, git(cli.repo, "rev-parse", "main"), "staging", "copied")

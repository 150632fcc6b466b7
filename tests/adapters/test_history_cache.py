"""The history cache (.git/promobot/history/): keyed by paths and tip, extended, rebuilt, never trusted.

Every case compares the cached answer with a fresh, uncached ``git log`` of the same tip.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot import __version__
from bot.adapters.git import HISTORY_FORMAT, HISTORY_VERSION, GitWorkspace
from bot.core.model import HistoryEntry
from tests.adapters.test_git import MANIFEST, commit_file, init_repo, manifest
from tests.helpers.git import git
from tests.helpers.git import isolated_git_config as isolated_git_config

DEV = "environments/dev/fraud.yaml"
PATHS = [MANIFEST, DEV]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = init_repo(tmp_path / "repo")
    commit_file(path, DEV, manifest("1.1.0"), "Dev 1.1.0")
    commit_file(path, MANIFEST, manifest("1.1.0"), "Prod 1.1.0")
    return path


def tip(repo: Path, ref: str = "main") -> str:
    return git(repo, "rev-parse", ref)


def cached(repo: Path, ref: str = "main") -> tuple[list[HistoryEntry], int]:
    """The cached history at ``ref`` from a new workspace (a new process) and the git processes it ran."""
    ws = GitWorkspace(repo)
    ws.git_dir  # noqa: B018 - repository facts, read once per process whatever the command
    before = ws.git_calls
    entries = ws.history_many(PATHS, ref=tip(repo, ref), cached=True)
    return entries, ws.git_calls - before


def fresh(repo: Path, ref: str = "main") -> list[HistoryEntry]:
    return GitWorkspace(repo).history_many(PATHS, ref=tip(repo, ref))


def cache_files(repo: Path) -> list[Path]:
    return sorted((repo / ".git" / "promobot" / "history").glob("*.json"))


def the_cache(repo: Path) -> dict[str, object]:
    [file] = cache_files(repo)
    doc: dict[str, object] = json.loads(file.read_text())
    return doc


def test_a_warm_history_runs_no_git_process_and_equals_git_log(repo: Path) -> None:
    cold, cold_calls = cached(repo)
    assert cold_calls == 1 and cold == fresh(repo)
    warm, warm_calls = cached(repo)
    assert warm_calls == 0
    assert warm == cold
    doc = the_cache(repo)
    assert (doc["format"], doc["version"], doc["promobot"], doc["tip"]) == (
        HISTORY_FORMAT,
        HISTORY_VERSION,
        __version__,
        tip(repo),
    )


def test_a_new_commit_extends_the_cache_with_old_to_new_only(repo: Path) -> None:
    cached(repo)
    commit_file(repo, MANIFEST, manifest("1.2.0"), "Prod 1.2.0")
    commit_file(repo, "README", "unrelated\n", "Docs")
    entries, calls = cached(repo)
    assert calls == 2  # merge-base --is-ancestor, then git log OLD..NEW
    assert entries == fresh(repo)
    assert (entries[0].version, entries[0].previous_version) == ("1.2.0", "1.1.0")
    assert the_cache(repo)["tip"] == tip(repo)


def test_an_amended_tip_rebuilds_the_cache(repo: Path) -> None:
    cached(repo)
    (repo / MANIFEST).write_text(manifest("1.1.1"))
    git(repo, "commit", "-q", "-a", "--amend", "-m", "Prod 1.1.1 (amended)")
    entries, _ = cached(repo)
    assert entries == fresh(repo)
    assert entries[0].version == "1.1.1" and entries[0].subject == "Prod 1.1.1 (amended)"
    assert len(entries) == 3


def test_a_reset_to_an_older_tip_forgets_the_newer_commits(repo: Path) -> None:
    commit_file(repo, DEV, manifest("2.0.0"), "Dev 2.0.0")
    cached(repo)
    git(repo, "reset", "-q", "--hard", "HEAD~2")
    entries, _ = cached(repo)
    assert entries == fresh(repo)
    assert [e.subject for e in entries] == ["Dev 1.1.0", "Add fraud"]


def test_a_corrupt_cache_file_is_rebuilt(repo: Path) -> None:
    cached(repo)
    [file] = cache_files(repo)
    for junk in (b"\x00\xff not json", b'{"format": "promobot-history"', b""):
        file.write_bytes(junk)
        entries, calls = cached(repo)
        assert calls == 1 and entries == fresh(repo)
        assert the_cache(repo)["tip"] == tip(repo)


def test_a_cache_from_another_promobot_version_is_rebuilt(repo: Path) -> None:
    cached(repo)
    [file] = cache_files(repo)
    doc = json.loads(file.read_text())
    doc["entries"]["subject"][0] = "a subject an older promobot parsed differently"
    for header in ({"promobot": "0.0.1"}, {"version": HISTORY_VERSION - 1}, {"format": "promobot-cache"}):
        file.write_text(json.dumps({**doc, **header}))
        entries, calls = cached(repo)
        assert calls == 1 and entries == fresh(repo)


def test_a_format_2_cache_of_parsed_commits_is_rebuilt_not_trusted(repo: Path) -> None:
    """Before format 3 the file held the parsed commits; such a file (even with the version
    changed to the current one) is never read as entries."""
    cached(repo)
    [file] = cache_files(repo)
    doc = json.loads(file.read_text())
    commit = [
        tip(repo),
        0,
        "Mallory",
        "Prod 6.6.6",
        {},
        [[MANIFEST, False, False, "1.1.0", "6.6.6", True, True]],
    ]
    legacy = {k: v for k, v in doc.items() if k != "entries"} | {"commits": [commit]}
    for version in (2, HISTORY_VERSION):
        file.write_text(json.dumps({**legacy, "version": version}))
        entries, calls = cached(repo)
        assert calls == 1 and entries == fresh(repo)
        assert "6.6.6" not in {e.version for e in entries}
    assert the_cache(repo)["version"] == HISTORY_VERSION == 3


def _set(column: str, value: object) -> Callable[[dict[str, list[object]]], None]:
    """Forge the newest entry's ``column``."""
    return lambda table: table[column].__setitem__(0, value)


@pytest.mark.parametrize(
    "forge",
    [
        _set("at", "no"),  # a time that is not an integer
        _set("at", 10**30),  # an integer no datetime can hold
        _set("path", 2),  # an index past the paths: a manifest the file is not about
        _set("path", -1),
        _set("path", True),  # a bool is no index
        _set("sha", "--output=/tmp/x"),  # a sha that is an option
        _set("action", "deploy"),
        _set("pr", "7"),
        _set("approved_by", [7]),
        _set("approved_by", "alice"),
        _set("version", ["1.0"]),
        _set("verification", 1),
        lambda table: table["subject"].pop(),  # columns of different lengths
        lambda table: table.pop("from"),  # a missing column
        lambda table: table.__setitem__("sha", {}),
    ],
    ids=[
        "bad-time",
        "huge-time",
        "foreign-path",
        "negative-path",
        "bool-path",
        "bad-sha",
        "unknown-action",
        "pr-not-int",
        "approver-not-str",
        "approvers-not-list",
        "version-not-str",
        "verification-not-str",
        "short-column",
        "missing-column",
        "column-not-list",
    ],
)
def test_a_cache_of_the_wrong_shape_is_rebuilt(
    repo: Path, forge: Callable[[dict[str, list[object]]], None]
) -> None:
    cached(repo)
    [file] = cache_files(repo)
    doc = json.loads(file.read_text())
    forge(doc["entries"])
    file.write_text(json.dumps(doc))
    entries, calls = cached(repo)
    assert calls == 1 and entries == fresh(repo)
    assert cached(repo) == (entries, 0)  # rewritten: the next run trusts it again


def test_the_cache_stores_one_list_per_field(repo: Path) -> None:
    cached(repo)
    doc = the_cache(repo)
    assert doc["paths"] == sorted(PATHS)
    table = doc["entries"]
    assert isinstance(table, dict)
    paths = doc["paths"]
    assert isinstance(paths, list)
    assert [paths[i] for i in table["path"]] == [MANIFEST, DEV, MANIFEST]  # indexes into paths
    assert [s.split()[0] for s in table["subject"]] == ["Prod", "Dev", "Add"]
    assert {len(column) for column in table.values()} == {3}


def test_a_cached_tip_that_is_not_in_the_repository_is_rebuilt(repo: Path) -> None:
    cached(repo)
    [file] = cache_files(repo)
    doc = json.loads(file.read_text())
    file.write_text(json.dumps({**doc, "tip": "0123456789" * 4}))
    entries, calls = cached(repo)
    assert calls == 2 and entries == fresh(repo)  # the ancestry check fails: a full log


def test_rewriting_unrelated_refs_keeps_the_cache(repo: Path) -> None:
    git(repo, "branch", "side")
    cached(repo)
    git(repo, "switch", "-q", "side")
    commit_file(repo, MANIFEST, manifest("6.6.6"), "Side change")
    git(repo, "switch", "-q", "main")
    git(repo, "tag", "v1", "side")
    entries, calls = cached(repo)
    assert calls == 0 and entries == fresh(repo)
    assert "6.6.6" not in {e.version for e in entries}


def test_a_merged_side_branch_extends_like_a_full_log(repo: Path) -> None:
    cached(repo)
    git(repo, "switch", "-q", "-c", "side")
    commit_file(repo, DEV, manifest("3.0.0"), "Side dev 3.0.0")
    git(repo, "switch", "-q", "main")
    commit_file(repo, MANIFEST, manifest("1.3.0"), "Prod 1.3.0")
    git(repo, "merge", "-q", "--no-edit", "side")
    entries, _ = cached(repo)
    assert entries == fresh(repo)
    assert {e.subject for e in entries} >= {"Side dev 3.0.0", "Prod 1.3.0"}


def test_decisions_never_read_the_cache(repo: Path) -> None:
    cached(repo)
    [file] = cache_files(repo)
    doc = json.loads(file.read_text())
    doc["entries"]["at"][0] = 0  # a well-formed lie: the newest change happened in 1970
    file.write_text(json.dumps(doc))
    ws = GitWorkspace(repo)
    assert ws.history_many(PATHS, ref="main") == fresh(repo)
    assert ws.history(MANIFEST, ref="main")[0].at.year > 1970


def test_the_number_of_cached_histories_is_bounded(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.adapters.git as gitmod

    monkeypatch.setattr(gitmod, "HISTORY_MAX_FILES", 4)
    ws = GitWorkspace(repo)
    head = tip(repo)
    for model in ("a", "b", "c", "d", "e", "f"):
        ws.history_many([f"environments/prod/{model}.yaml"], ref=head, cached=True)
        os.utime(cache_files(repo)[0], None)
    assert 2 <= len(cache_files(repo)) <= 4


def test_with_a_commit_graph_one_log_per_path_fills_and_extends_the_cache(repo: Path) -> None:
    one_log = fresh(repo)
    assert GitWorkspace(repo).ensure_commit_graph() is True
    cold, calls = cached(repo)
    assert calls == 1 + len(PATHS)  # rev-list --topo-order, then one log per path side by side
    assert cold == one_log
    commit_file(repo, DEV, manifest("1.2.0"), "Dev 1.2.0")
    commit_file(repo, MANIFEST, manifest("1.2.0"), "Prod 1.2.0")
    entries, calls = cached(repo)
    assert calls == 2 + len(PATHS)  # merge-base --is-ancestor, then the same for OLD..NEW only
    assert entries == fresh(repo)
    assert [(e.env, e.version, e.previous_version) for e in entries[:2]] == [
        ("prod", "1.2.0", "1.1.0"),
        ("dev", "1.2.0", "1.1.0"),
    ]


def test_an_extension_carries_each_manifest_s_version_over_from_the_cache(repo: Path) -> None:
    """A commit that touches a manifest but not its ``version:`` line keeps the version the
    cached entries ended with: the extension starts from the cache's state, as a full log would."""
    cached(repo)
    commit_file(repo, MANIFEST, manifest("1.1.0", replicas=3), "Scale prod")
    commit_file(repo, DEV, manifest("1.1.0", replicas=2), "Scale dev")
    entries, calls = cached(repo)
    assert calls == 2 and entries == fresh(repo)
    assert [(e.env, e.version, e.previous_version) for e in entries[:2]] == [
        ("dev", "1.1.0", "1.1.0"),
        ("prod", "1.1.0", "1.1.0"),
    ]
    again, calls = cached(repo)
    assert calls == 0 and again == entries

"""The manifest cache in .git/promobot/: JSON that cannot run code, validated, versioned, rebuilt."""

from __future__ import annotations

import json
import logging
import os
import pickle
from pathlib import Path

import pytest

from bot import __version__
from bot.adapters.cache import (
    FILE_NAME,
    FORMAT,
    OVERVIEW_FILE_NAME,
    OVERVIEW_FORMAT,
    OVERVIEW_VERSION,
    STATUS_FILE_NAME,
    STATUS_FORMAT,
    VERSION,
    FileCache,
)
from bot.app.history import history_rows
from tests.conftest import Cli
from tests.helpers.git import commit_all
from tests.helpers.local import local_context


def _cache_file(cli: Cli) -> Path:
    return cli.repo / ".git" / "promobot" / FILE_NAME


def _overview_file(cli: Cli) -> Path:
    return cli.repo / ".git" / "promobot" / OVERVIEW_FILE_NAME


def _status_file(cli: Cli) -> Path:
    return cli.repo / ".git" / "promobot" / STATUS_FILE_NAME


def _write(path: Path, entries: object, **header: object) -> None:
    ours = (OVERVIEW_FORMAT, OVERVIEW_VERSION) if path.name == OVERVIEW_FILE_NAME else (FORMAT, VERSION)
    doc = {"format": ours[0], "version": ours[1], "promobot": __version__, **header, "entries": entries}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


class _Boom:
    """Unpickling this creates a file: proof that a pickle would have run code."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.target),))


def test_values_round_trip_and_an_unchanged_cache_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "promobot" / FILE_NAME
    cache = FileCache(path)
    cache.put("m:abc:environments/dev/a.yaml", ("1.0.0", None))
    cache.flush()
    doc = json.loads(path.read_text())
    assert (doc["format"], doc["version"], doc["promobot"]) == (FORMAT, VERSION, __version__)
    again = FileCache(path)
    assert again.get("m:abc:environments/dev/a.yaml") == ["1.0.0", None]
    stamp = path.stat().st_mtime_ns
    again.put("m:abc:environments/dev/a.yaml", ("1.0.0", None))  # a tuple equals its JSON list
    again.flush()
    assert path.stat().st_mtime_ns == stamp


def test_a_corrupt_cache_file_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    for junk in (b"\x80\x04garbage", b'{"format": "promobot-cache", "version": 2', b"[1, 2]", b"\xff\xfe"):
        path.write_bytes(junk)
        cache = FileCache(path)
        assert cache.get("k") is None
        cache.put("k", [1])
        cache.flush()
        assert FileCache(path).get("k") == [1]


def test_a_cache_of_another_format_or_promobot_version_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    for header in ({"version": 1}, {"promobot": "0.0.1"}, {"format": "other"}):
        _write(path, {"k": ["stale", None]}, **header)
        assert FileCache(path).get("k") is None
    _write(path, ["not", "a", "mapping"])
    assert FileCache(path).get("k") is None


def test_a_pickle_in_the_cache_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"format": 1, "entries": {"k": _Boom(marker)}})
    (tmp_path / FILE_NAME).write_bytes(payload)
    (tmp_path / "cache.pickle").write_bytes(payload)  # where promobot before format 2 kept it
    cache = FileCache(tmp_path / FILE_NAME)
    assert cache.get("k") is None
    cache.put("k", [1])
    cache.flush()
    assert not marker.exists()
    assert not (tmp_path / "cache.pickle").exists()  # the old pickle is removed, never read


def test_status_ignores_malformed_cache_values(cli: Cli) -> None:
    assert cli.json("status")["models"]["fraud-detector"]["dev"] == "1.5.0"
    for path in (_cache_file(cli), _overview_file(cli)):
        entries = json.loads(path.read_text())["entries"]
        for key in entries:
            entries[key] = {"version": "6.6.6"} if key.startswith("m:") else [["x"]]
        _write(path, entries)
    data = cli.json("status")
    assert data["models"]["fraud-detector"]["dev"] == "1.5.0"
    assert data["errors"] == {}


def test_status_rebuilds_a_corrupt_cache_file(cli: Cli) -> None:
    cli.json("status")
    _cache_file(cli).write_bytes(b"\x00not json")
    _overview_file(cli).write_bytes(b"{")
    _status_file(cli).write_bytes(b"[")
    assert cli.json("status")["models"]["fraud-detector"]["dev"] == "1.5.0"
    assert json.loads(_cache_file(cli).read_text())["format"] == FORMAT
    assert json.loads(_overview_file(cli).read_text())["format"] == OVERVIEW_FORMAT
    assert json.loads(_status_file(cli).read_text())["format"] == STATUS_FORMAT


def test_a_status_whose_table_answers_does_not_read_the_manifest_summaries(
    cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    cli.json("status")
    with caplog.at_level(logging.DEBUG, logger="bot.adapters.cache"):
        cli.json("status")
        assert cli.json("status")["models"]["fraud-detector"]["dev"] == "1.5.0"
    # (the CLI runs in-process: both runs logged what they read)
    assert sorted({r.getMessage().split(":")[0] for r in caplog.records}) == [
        f"read {OVERVIEW_FILE_NAME}",
        f"read {STATUS_FILE_NAME}",
    ]


def test_the_overview_keys_live_in_their_own_file_and_history_reads_only_it(
    cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    cli.json("status")
    summaries = json.loads(_cache_file(cli).read_text())["entries"]
    overview = json.loads(_overview_file(cli).read_text())
    assert (overview["format"], overview["version"]) == (OVERVIEW_FORMAT, OVERVIEW_VERSION)
    assert sorted(overview["entries"]) == ["p", "r"]
    assert summaries and not {"p", "r"} & set(summaries)  # the manifest summaries only
    with caplog.at_level(logging.DEBUG, logger="bot.adapters.cache"):
        rows = history_rows(local_context(cli.repo), "fraud-detector")
    assert rows and {r["model"] for r in rows} == {"fraud-detector"}
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [f"read {OVERVIEW_FILE_NAME}"]


def test_a_cache_from_before_the_overview_file_is_rebuilt_not_trusted(cli: Cli) -> None:
    """Format 2 kept the policy and rejections in cache.json: such a file is not read at all."""
    cli.json("status")
    entries = json.loads(_cache_file(cli).read_text())["entries"]
    planted = [[["dev", None], ["qa", "dev"]], False, []]
    policy = (cli.repo / "environments" / "promotion.yaml").read_text()
    forged = {key: ["6.6.6", None] for key in entries} | {"p": [policy, planted]}
    _write(_cache_file(cli), forged, version=2)
    _overview_file(cli).unlink()
    _status_file(cli).unlink()  # (its table would answer without reading cache.json)
    data = cli.json("status")
    assert data["environments"] == ["dev", "staging", "prod"]
    assert data["models"]["fraud-detector"]["dev"] == "1.5.0"
    doc = json.loads(_cache_file(cli).read_text())
    assert doc["version"] == VERSION == 3
    assert doc["entries"] == entries  # rebuilt from git, without the overview keys
    assert json.loads(_overview_file(cli).read_text())["entries"]["p"][0] == policy


REJECTION = (
    "rejected:\n"
    "  - model: fraud-detector\n"
    '    version: "1.5.0"\n'
    "    reason: leaks labels\n"
    "    by: sam\n"
    '    at: "2026-11-01T09:00:00Z"\n'
)


def test_a_forged_cache_entry_cannot_unreject_a_version_for_promote(cli: Cli) -> None:
    rejected = cli.repo / "environments" / "rejected.yaml"
    rejected.write_text(REJECTION)
    commit_all(cli.repo, "reject 1.5.0")
    cli.json("status")
    path = _overview_file(cli)
    entries = json.loads(path.read_text())["entries"]
    assert entries["r"][0] == REJECTION
    entries["r"] = [REJECTION, []]  # a restored cache that says nothing is rejected
    _write(path, entries)
    promoted = cli.json("promote", "fraud-detector", "--to", "staging", actor="alice", expect=None)
    gate = next(g for g in promoted["gates"] if g["name"] == "not-rejected")
    assert gate["result"] == "failure" and "leaks labels" in gate["reason"]


def test_status_rereads_the_policy_and_rejections_when_their_text_changes(cli: Cli) -> None:
    first = cli.json("status")
    assert first["environments"] == ["dev", "staging", "prod"] and first["rejected"] == {}
    (cli.repo / "environments" / "rejected.yaml").write_text(REJECTION)
    policy = cli.repo / "environments" / "promotion.yaml"
    policy.write_text(
        policy.read_text().replace("  - name: staging", "  - name: qa\n    from: dev\n  - name: staging", 1)
    )
    commit_all(cli.repo, "reject 1.5.0, add qa")
    data = cli.json("status")
    assert data["environments"] == ["dev", "qa", "staging", "prod"]
    assert data["rejected"] == {"fraud-detector": ["dev"]}
    assert data["drift"]["fraud-detector"][0] == "qa does not have it yet (dev runs 1.5.0)"

"""bot/app/validate.py: the policy, rejected.yaml and every manifest among the files given,
each finding at its file and line — called directly on the files of a real repository."""

from __future__ import annotations

import pytest

from bot.adapters.git import GitWorkspace
from bot.app.validate import Finding, validate
from tests.conftest import Cli

POLICY = "environments/promotion.yaml"
REJECTED = "environments/rejected.yaml"
DEV_FRAUD = "environments/dev/fraud-detector.yaml"


@pytest.fixture
def files(cli: Cli) -> dict[str, bytes]:
    """The committed environments/ of the example repository, as ``promobot validate --ref`` reads it."""
    return GitWorkspace.discover(cli.repo).read_tree_files("environments", ref="HEAD")


def edited(files: dict[str, bytes], path: str, old: bytes, new: bytes) -> dict[str, bytes]:
    assert old in files[path], f"{old!r} not in {path}"
    return files | {path: files[path].replace(old, new, 1)}


def line_of(text: bytes, needle: bytes) -> int:
    return text[: text.index(needle)].count(b"\n") + 1


def test_the_example_checks_the_policy_rejected_yaml_and_ten_manifests(files: dict[str, bytes]) -> None:
    report = validate(files)
    assert report.to_json() == {"ok": True, "checked": 12, "errors": [], "warnings": []}


@pytest.mark.parametrize(
    ("path", "old", "new", "needle"),
    [
        (DEV_FRAUD, b"auc: 0.936", b'auc: "high"', "not a number"),
        (POLICY, b"required: 2", b"required: -1", "at least 0"),
        (REJECTED, b"rejected: []", b"rejected:\n  - {model: m, version: 1.0}", "must be a string"),
    ],
    ids=["manifest", "policy", "rejected"],
)
def test_every_finding_names_the_file_and_the_line_of_the_bad_value(
    files: dict[str, bytes], path: str, old: bytes, new: bytes, needle: str
) -> None:
    bad = edited(files, path, old, new)
    report = validate(bad)
    assert not report.ok and report.warnings == []
    (finding,) = report.errors
    assert (finding.file, finding.line) == (path, line_of(bad[path], new.split(b"\n")[-1]))
    assert needle in finding.message and f"{path}:{finding.line}:" in finding.message
    assert finding.to_json() == {"file": path, "line": finding.line, "message": finding.message}


def test_a_yml_manifest_is_refused_and_not_counted_as_checked(files: dict[str, bytes]) -> None:
    report = validate(files | {"environments/staging/churn-predictor.yml": files[DEV_FRAUD]})
    assert report.errors == [
        Finding("environments/staging/churn-predictor.yml", None, "manifests end in .yaml — rename the file")
    ]
    assert report.checked == 12  # not parsed at all


def test_a_folder_that_is_not_an_environment_is_a_warning_and_still_ok(files: dict[str, bytes]) -> None:
    extra = {
        "environments/qa/fraud-detector.yaml": b"not: [even yaml",
        "environments/qa/old.yml": b"x",
        "environments/.github/labels.yaml": b"x",  # dot-folders, artifacts/ and checks/ are no one's
        "environments/checks/config.yaml": b"x",
        "environments/dev/notes/readme.yaml": b"x",  # deeper than a manifest: not one
        "environments/dev/README.md": b"x",
    }
    report = validate(files | extra)
    assert report.ok and report.checked == 12
    assert report.warnings == [
        Finding(path, None, f"'qa' is not an environment in {POLICY}; ignored")
        for path in ("environments/qa/fraud-detector.yaml", "environments/qa/old.yml")
    ]


def test_an_unknown_top_level_key_is_a_warning_because_it_will_be_promoted(files: dict[str, bytes]) -> None:
    report = validate(edited(files, DEV_FRAUD, b"owner:", b"team: fraud\nowner:"))
    assert report.ok
    assert report.warnings == [Finding(DEV_FRAUD, None, "unknown top-level key 'team' (it will be promoted)")]


def test_without_a_policy_the_manifests_are_still_checked(files: dict[str, bytes]) -> None:
    bad = edited(files, DEV_FRAUD, b"auc: 0.936", b'auc: "high"')
    del bad[POLICY]
    report = validate(bad)
    line = line_of(bad[DEV_FRAUD], b'auc: "high"')
    assert [(f.file, f.line) for f in report.errors] == [(POLICY, None), (DEV_FRAUD, line)]
    assert "create the promotion policy" in report.errors[0].message
    assert report.checked == 11  # rejected.yaml and ten manifests

"""Rollback decisions: target selection from manifest history, the revert-form message, the files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import trailers
from bot.core.manifest import load_manifest
from bot.core.model import HistoryEntry, Rejection
from bot.core.rejected import load_rejected
from bot.core.revert import (
    clean_reason,
    reason_from_message,
    rejection,
    rollback_files,
    rollback_message,
    select_target,
)
from bot.errors import NotApplicable, UsageError

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
SHA = {name: (name * 40)[:40] for name in "abcdefgh"}


def entries(*rows: tuple[str, str | None, str | None, str]) -> list[HistoryEntry]:
    """Newest first: (sha letter, version, previous_version, action)."""
    out = []
    for i, (letter, version, previous, action) in enumerate(rows):
        out.append(
            HistoryEntry(
                sha=SHA[letter],
                at=T0 + timedelta(hours=len(rows) - i),
                action=action,  # type: ignore[arg-type]
                model="m",
                env="prod",
                version=version,
                previous_version=previous,
                subject=f"commit {letter}",
            )
        )
    return out


def reject(version: str) -> Rejection:
    return Rejection("m", version, "broken", "sam", "2026-11-27T10:00:00Z")


# (history newest first, current, --to, rejected versions) -> (bad sha, target, restores sha)
CASES = [
    (
        [("b", "2", "1", "promote"), ("a", "1", None, "manual")],
        "2",
        None,
        (),
        ("b", "1", "a"),
    ),
    (  # a hand edit after the bad promotion keeps the version: the promotion is still the bad commit
        [("c", "2", "2", "manual"), ("b", "2", "1", "promote"), ("a", "1", None, "manual")],
        "2",
        None,
        (),
        ("b", "1", "a"),
    ),
    (  # restore the newest state of the target (its later hand edit included)
        [("c", "2", "1", "promote"), ("b", "1", "1", "manual"), ("a", "1", None, "manual")],
        "2",
        None,
        (),
        ("c", "1", "b"),
    ),
    (  # hand-made version change without trailers counts
        [("c", "3", "2", "manual"), ("b", "2", "1", "promote"), ("a", "1", None, "manual")],
        "3",
        None,
        (),
        ("c", "2", "b"),
    ),
    (  # rollback of a rollback: the rejected version and the current one are skipped
        [
            ("d", "2", "3", "rollback"),
            ("c", "3", "2", "manual"),
            ("b", "2", "1", "promote"),
            ("a", "1", None, "manual"),
        ],
        "2",
        None,
        ("3",),
        ("d", "1", "a"),
    ),
    (  # --to an older version
        [("c", "3", "2", "promote"), ("b", "2", "1", "promote"), ("a", "1", None, "manual")],
        "3",
        "1",
        (),
        ("c", "1", "a"),
    ),
    (  # the same version came back: the newest bringing commit is the bad one
        [
            ("d", "2", "1", "promote"),
            ("c", "1", "2", "rollback"),
            ("b", "2", "1", "promote"),
            ("a", "1", None, "manual"),
        ],
        "2",
        None,
        (),
        ("d", "1", "c"),
    ),
]


@pytest.mark.parametrize(
    ("rows", "current", "to", "rejected", "want"),
    CASES,
    ids=[
        "previous-version",
        "hand-edit-after-bad-commit",
        "newest-state-of-target",
        "hand-made-version-change",
        "rollback-of-rollback-skips-rejected",
        "to-older-version",
        "version-came-back",
    ],
)
def test_target_is_chosen_from_manifest_history(
    rows: list[tuple[str, str | None, str | None, str]],
    current: str,
    to: str | None,
    rejected: tuple[str, ...],
    want: tuple[str, str, str],
) -> None:
    target = select_target(
        entries(*rows),
        model="m",
        env="prod",
        current=current,
        to_version=to,
        rejections=[reject(v) for v in rejected],
    )
    assert (target.bad_sha, target.version, target.restores_sha) == (SHA[want[0]], want[1], SHA[want[2]])
    assert target.bad_subject == f"commit {want[0]}"


@pytest.mark.parametrize(
    ("rows", "current", "to", "rejected", "message"),
    [
        ([("a", "1", None, "manual")], "1", None, (), "nothing to roll back to: prod has only ever run m 1"),
        (
            [("b", "2", "1", "promote"), ("a", "1", None, "manual")],
            "2",
            None,
            ("1",),
            "every version that ran in prod before 2 is rejected (1)",
        ),
        (
            [("b", "2", "1", "promote"), ("a", "1", None, "manual")],
            "2",
            "9.9",
            (),
            "9.9 never ran in prod; versions that did: 1",
        ),
        ([("b", "2", "1", "promote"), ("a", "1", None, "manual")], "2", "2", (), "prod already runs m 2"),
        (
            [("b", "2", "1", "promote"), ("a", "1", None, "manual")],
            "2",
            "1",
            ("1",),
            "m 1 is rejected (by sam at 2026-11-27T10:00:00Z: broken)",
        ),
        ([], "2", None, (), "does not show how 2 got there"),
    ],
    ids=[
        "only-one-version",
        "all-earlier-rejected",
        "to-never-ran",
        "to-current",
        "to-rejected",
        "no-history",
    ],
)
def test_impossible_rollbacks_are_refused_with_a_reason(
    rows: list[tuple[str, str | None, str | None, str]],
    current: str,
    to: str | None,
    rejected: tuple[str, ...],
    message: str,
) -> None:
    with pytest.raises((NotApplicable, UsageError)) as info:  # nothing to do, or a bad --to
        select_target(
            entries(*rows),
            model="m",
            env="prod",
            current=current,
            to_version=to,
            rejections=[reject(v) for v in rejected],
        )
    assert message in info.value.message
    assert info.value.hint


def test_message_is_in_git_revert_form_with_rollback_trailers() -> None:
    message = rollback_message(
        model="fraud-detector",
        env="prod",
        version="1.4.1",
        bad_version="1.4.2",
        bad_sha=SHA["b"],
        bad_subject="Promote fraud-detector 1.4.2 to prod (#1)",
        reason="AUC dropped\n\nbadly",
        requester="sam",
        extra=[("Approved-by", "carol")],
    )
    subject, blank, revert, *_ = message.splitlines()
    assert subject == 'Revert "Promote fraud-detector 1.4.2 to prod (#1)"'
    assert blank == ""
    assert revert == f"This reverts commit {SHA['b']}."
    assert "\n\nAUC dropped badly\n\n" in message
    assert trailers.parse_trailers(message) == {
        "Promobot-Action": "rollback",
        "Promobot-Model": "fraud-detector",
        "Promobot-To": "prod",
        "Promobot-Version": "1.4.1",
        "Promobot-Previous-Version": "1.4.2",
        "Promobot-Rollback-Of": SHA["b"],
        "Promobot-Requested-By": "sam",
        "Approved-by": "carol",
    }
    assert reason_from_message(message, SHA["b"]) == "AUC dropped badly"


def test_a_reason_cannot_forge_trailers() -> None:
    message = rollback_message(
        model="m",
        env="prod",
        version="1",
        bad_version="2",
        bad_sha=SHA["b"],
        bad_subject="x",
        reason="ok\n\nPromobot-Version: 9",
        requester=None,
    )
    assert trailers.parse_trailers(message)["Promobot-Version"] == "1"
    assert clean_reason("a\x00b\n c") == "a b c"
    assert clean_reason(" \n ") is None


PROD_OLD = """\
apiVersion: promobot/v1
kind: ModelDeployment
name: m
version: 1.0.0  # the old one
artifact:
  uri: s3://m/1.0.0
  digest: sha256:{a}
serving:
  replicas: 2
""".format(a="a" * 64)

PROD_NOW = """\
apiVersion: promobot/v1
kind: ModelDeployment
name: m
version: 2.0.0
artifact:
  uri: s3://m/2.0.0
  digest: sha256:{b}
serving:
  replicas: 7  # scaled by hand
""".format(b="b" * 64)


def test_files_restore_promoted_keys_keep_local_keys_and_reject_the_bad_version() -> None:
    entry = rejection(
        model="m",
        version="2.0.0",
        reason=None,
        by="sam",
        now=datetime(2026, 11, 27, 11, 0, 5, 123, tzinfo=UTC),
        default_reason="rolled back",
    )
    files = rollback_files(
        path="environments/prod/m.yaml",
        current_text=PROD_NOW,
        restored_text=PROD_OLD,
        local_keys=("serving",),
        rejected_path="environments/rejected.yaml",
        rejected_text="rejected: []\n",
        reject=entry,
    )
    manifest = load_manifest(files["environments/prod/m.yaml"], path="x", expected_name="m")
    assert manifest.version == "1.0.0"
    assert manifest.artifact_uri == "s3://m/1.0.0"
    assert files["environments/prod/m.yaml"].decode().endswith("serving:\n  replicas: 7  # scaled by hand\n")
    assert load_rejected(files["environments/rejected.yaml"]) == (
        Rejection("m", "2.0.0", "rolled back", "sam", "2026-11-27T11:00:05Z"),
    )


def test_files_leave_rejected_yaml_alone_without_a_rejection() -> None:
    files = rollback_files(
        path="p.yaml",
        current_text=PROD_NOW,
        restored_text=PROD_OLD,
        local_keys=(),
        rejected_path="r.yaml",
        rejected_text=None,
        reject=None,
    )
    assert set(files) == {"p.yaml"}


def test_rolling_back_after_a_rollback_goes_further_back_not_forward() -> None:
    from datetime import UTC, datetime

    from bot.core.model import HistoryEntry
    from bot.core.revert import select_target

    def entry(sha: str, action: str, version: str, previous: str | None) -> HistoryEntry:
        return HistoryEntry(
            sha=sha,
            at=datetime(2026, 11, int(sha[-1]) + 1, tzinfo=UTC),
            action=action,  # type: ignore[arg-type]
            model="m",
            env="prod",
            version=version,
            previous_version=previous,
        )

    entries = [  # newest first: 1.0 → 1.1 → 1.2, then a rollback 1.2 → 1.1 (1.2 not rejected)
        entry("c4", "rollback", "1.1", "1.2"),
        entry("c3", "promote", "1.2", "1.1"),
        entry("c2", "promote", "1.1", "1.0"),
        entry("c1", "manual", "1.0", None),
    ]
    target = select_target(entries, model="m", env="prod", current="1.1")
    assert target.version == "1.0"
    assert target.bad_sha == "c4"
    assert select_target(entries, model="m", env="prod", current="1.1", to_version="1.2").version == "1.2"

"""Commit trailers: formatting, sanitising and parsing with git's rules."""

from __future__ import annotations

import pytest

from bot.core.trailers import (
    APPROVED_BY,
    TRAILER_KEYS,
    build_message,
    format_trailers,
    parse_trailers,
)


def test_trailer_keys_are_the_design_keys() -> None:
    assert TRAILER_KEYS == (
        "Promobot-Action",
        "Promobot-Model",
        "Promobot-From",
        "Promobot-To",
        "Promobot-Version",
        "Promobot-Previous-Version",
        "Promobot-Rollback-Of",
        "Approved-by",
        "Promobot-Requested-By",
        "Promobot-PR",
        "Promobot-Verification",
    )


def test_built_message_round_trips_through_parse() -> None:
    pairs = [
        ("Promobot-Action", "promote"),
        ("Promobot-Model", "fraud-detector"),
        ("Promobot-From", "staging"),
        ("Promobot-To", "prod"),
        ("Promobot-Version", "1.4.2"),
        ("Promobot-Previous-Version", "1.4.1"),
        ("Approved-by", "alice, bob"),
    ]
    message = build_message("Promote fraud-detector 1.4.2 to prod", "Body text.\n\nMore.", pairs)
    assert message.startswith("Promote fraud-detector 1.4.2 to prod\n\nBody text.\n\nMore.\n\n")
    assert message.endswith("Approved-by: alice, bob\n")
    assert parse_trailers(message) == dict(pairs)


def test_build_message_without_body_or_trailers() -> None:
    assert build_message("Subject", "", []) == "Subject\n"
    assert build_message("Subject", "", {"Promobot-Action": "promote"}) == (
        "Subject\n\nPromobot-Action: promote\n"
    )


@pytest.mark.parametrize(
    "value",
    ["1.0\nPromobot-Action: rollback", "a\rb", "tab\there", "nul\x00", "ls\u2028x", "esc\x1b[0m"],
    ids=["newline-forges-trailer", "carriage-return", "tab", "nul", "line-separator", "escape"],
)
def test_format_trailers_refuses_control_characters(value: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        format_trailers([("Promobot-Version", value)])


@pytest.mark.parametrize("key", ["Bad Key", "", "-lead", "key:x"], ids=["space", "empty", "dash", "colon"])
def test_format_trailers_refuses_malformed_keys(key: str) -> None:
    with pytest.raises(ValueError, match="trailer key"):
        format_trailers([(key, "v")])


def test_format_trailers_uses_canonical_spelling() -> None:
    assert format_trailers([("promobot-version", "2"), ("approved-BY", "x")]) == (
        "Promobot-Version: 2\nApproved-by: x"
    )


def test_multi_line_subject_is_refused() -> None:
    with pytest.raises(ValueError, match="subject"):
        build_message("one\ntwo", "", [])


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Subject only: not a trailer\n", {}),
        ("Subject\n\nPromobot-Version: 1.2\n", {"Promobot-Version": "1.2"}),
        ("Subject\n\npromobot-VERSION:   1.2  \n\n\n", {"Promobot-Version": "1.2"}),
        ("Subject\n\nPromobot-Version: 1\n\nJust prose at the end.\n", {}),
        (
            "Subject\n\nPromobot-Version: 1\nsome prose line\n",
            {"Promobot-Version": "1"},
        ),
        ("Subject\n\nX-Custom: 1\nprose\nprose two\n", {}),
        (
            "Subject\n\nApproved-by: alice\nApproved-by: bob\n",
            {"Approved-by": "alice, bob"},
        ),
        ("Subject\n\nPromobot-Version: 1\nPromobot-Version: 2\n", {"Promobot-Version": "2"}),
        (
            "Subject\n\nApproved-by: alice,\n  bob\nSigned-off-by: A <a@x>\n",
            {"Approved-by": "alice, bob", "Signed-off-by": "A <a@x>"},
        ),
        ("Subject\r\n\r\nPromobot-PR: 7\r\n", {"Promobot-PR": "7"}),
    ],
    ids=[
        "subject-is-never-trailers",
        "simple",
        "case-insensitive-key-and-blank-tail",
        "only-last-paragraph",
        "quarter-rule-with-known-key",
        "quarter-rule-unknown-key",
        "repeated-approved-by-joined",
        "repeated-other-last-wins",
        "continuation-line",
        "crlf",
    ],
)
def test_parse_trailers_follows_git_rules(message: str, expected: dict[str, str]) -> None:
    assert parse_trailers(message) == expected


def test_approved_by_constant_is_canonical() -> None:
    assert parse_trailers("S\n\nAPPROVED-BY: carol\n") == {APPROVED_BY: "carol"}


def test_collect_trailers_normalises_pairs_found_by_git() -> None:
    from bot.core.trailers import collect_trailers

    pairs = [("promobot-action", " promote"), ("Approved-By", "alice"), ("Approved-by", " bob ")]
    assert collect_trailers(pairs) == {"Promobot-Action": "promote", "Approved-by": "alice, bob"}

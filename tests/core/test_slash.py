"""Tests for the slash-command grammar (reference §7): what runs, what is refused, what is ignored."""

from __future__ import annotations

import time

import pytest

from bot.core import slash
from bot.core.command_table import COMMANDS, NAMES, help_lines, usage_for
from bot.core.slash import MAX_COMMENT_BYTES, Command, Refusal, parse
from bot.errors import UsageError

# --------------------------------------------------------------------------- commands that run

RUNS: list[tuple[str, str, list[tuple[str, tuple[str, ...], int]]]] = [
    ("plain", "/promote", [("promote", (), 1)]),
    ("upper-case", "/PROMOTE", [("promote", (), 1)]),
    ("mixed-case", "/Promote", [("promote", (), 1)]),
    ("leading-spaces", "   /promote", [("promote", (), 1)]),
    ("trailing-blanks", "/promote  \t ", [("promote", (), 1)]),
    ("after-prose", "Looks good to me.\n\n/promote\n\nthanks", [("promote", (), 3)]),
    ("paragraph-continuation", "please\n/promote", [("promote", (), 2)]),
    ("crlf", "LGTM\r\n/promote\r\n", [("promote", (), 2)]),
    ("bare-cr", "LGTM\r/promote\r", [("promote", (), 2)]),
    ("retest", "/retest", [("retest", (), 1)]),
    ("gates-alias", "/gates", [("retest", (), 1)]),
    ("hold-no-reason", "/hold", [("hold", (), 1)]),
    ("hold-reason-words", "/hold waiting for data team", [("hold", ("waiting for data team",), 1)]),
    ("hold-blank-quoted-reason", '/hold "" "  "', [("hold", (), 1)]),
    ("hold-reason-quoted", '/hold "waiting for data team"', [("hold", ("waiting for data team",), 1)]),
    ("hold-blanks-collapse", "/hold\twaiting   for\tdata", [("hold", ("waiting for data",), 1)]),
    ("hold-apostrophe", "/hold don't merge yet", [("hold", ("don't merge yet",), 1)]),
    ("hold-emoji-zwj", "/hold 🧑\u200d💻 reviewing", [("hold", ("🧑\u200d💻 reviewing",), 1)]),
    ("hold-500-chars", "/hold " + "x" * 500, [("hold", ("x" * 500,), 1)]),
    ("unhold", "/unhold", [("unhold", (), 1)]),
    ("rollback-bare", "/rollback", [("rollback", (), 1)]),
    ("rollback-version", "/rollback 1.4.2", [("rollback", ("1.4.2",), 1)]),
    ("rollback-quoted-version", '/rollback "1.4.2+build.7"', [("rollback", ("1.4.2+build.7",), 1)]),
    ("rollback-tab", "/rollback\tv2", [("rollback", ("v2",), 1)]),
    ("cancel", "/cancel", [("cancel", (), 1)]),
    ("status", "/status", [("status", (), 1)]),
    ("help", "/help", [("help", (), 1)]),
    ("read-only-pair", "/status\n/help", [("status", (), 1), ("help", (), 2)]),
    ("read-only-duplicates-collapse", "/status\n/STATUS\n/status", [("status", (), 1)]),
    ("alias-duplicate-collapses", "/retest\n/gates", [("retest", (), 1)]),
    (
        "state-changing-plus-read-only",
        "/retest\n/promote\n/status",
        [("retest", (), 1), ("promote", (), 2), ("status", (), 3)],
    ),
    ("trailing-html-comment", "/promote <!-- after lunch -->", [("promote", (), 1)]),
    ("reason-ends-at-comment", "/hold wait <!-- private -->", [("hold", ("wait",), 1)]),
    ("after-closed-fence", "```\n/cancel\n```\n/promote", [("promote", (), 4)]),
    ("after-closed-comment", "<!--\n/cancel\n-->\n/promote", [("promote", (), 4)]),
    ("after-quote", "> /cancel\n\n/promote", [("promote", (), 3)]),
    ("after-list-fence-ends", "- ```\n  /cancel\n/promote", [("promote", (), 3)]),
    ("other-bots-alongside", "/lgtm\n/approve\n/promote", [("promote", (), 3)]),
    ("inline-code-closed-before", "use `x` here\n/promote", [("promote", (), 2)]),
    ("three-space-indent", "   /help", [("help", (), 1)]),
    ("backtick-in-info-is-no-fence", "```foo`bar\n/promote", [("promote", (), 2)]),
    ("crlf-after-fence", "```\r\n/cancel\r\n```\r\n/promote\r\n", [("promote", (), 4)]),
    ("exactly-64-kib", "/promote\n" + "x" * (MAX_COMMENT_BYTES - 9), [("promote", (), 1)]),
]


@pytest.mark.parametrize(("body", "expected"), [(b, e) for _, b, e in RUNS], ids=[i for i, _, _ in RUNS])
def test_command_lines_run(body: str, expected: list[tuple[str, tuple[str, ...], int]]) -> None:
    assert parse(body) == [Command(name, args, line) for name, args, line in expected]


# --------------------------------------------------------------------------- silence

SILENT: list[tuple[str, str]] = [
    ("empty", ""),
    ("prose", "LGTM, nice work"),
    ("mid-line", "please /promote"),
    ("inline-code", "`/promote`"),
    ("inline-code-mid-line", "run `/promote` when ready"),
    ("double-backtick-code", "``/promote``"),
    ("code-span-across-lines", "run `this\n/promote` later"),
    ("fence-backticks", "```\n/promote\n```"),
    ("fence-tildes", "~~~\n/promote\n~~~"),
    ("fence-crlf", "```\r\n/promote\r\n```"),
    ("fence-info-string", "```console\n/promote\n```"),
    ("fence-indented", "   ```\n/promote\n   ```"),
    ("fence-unclosed", "```\n/promote"),
    ("fence-longer-opener", "````\n```\n/promote\n````"),
    ("fence-other-char", "~~~\n```\n/promote\n~~~"),
    ("fence-in-list-item", "- ```\n  /promote\n  ```"),
    ("quote", "> /promote"),
    ("quote-no-space", ">/promote"),
    ("quote-indented", "  > /promote"),
    ("quote-nested", "> > /promote"),
    ("comment-one-line", "<!-- /promote -->"),
    ("comment-multi-line", "<!--\n/promote\n-->"),
    ("comment-opened-after-text", "text <!-- notes\n/promote\n--> more"),
    ("comment-unclosed", "<!-- draft\n/promote"),
    ("comment-closing-line", "<!--\n/promote -->"),
    ("comment-joins-nothing", "/pro<!-- x -->mote"),
    ("pre-block", "<pre>\n/promote\n</pre>"),
    ("indented-4-spaces", "    /promote"),
    ("indented-tab", "\t/promote"),
    ("escaped-slash", "\\/promote"),
    ("heading", "# /promote"),
    ("list-item", "- /promote"),
    ("table-cell", "| /promote |"),
    ("slash-alone", "/"),
    ("slash-space", "/ promote"),
    ("path", "/usr/bin/python crashed"),
    ("short-word", "/s"),
    ("other-bot-assign", "/assign @bob"),
    ("other-bot-lgtm", "/lgtm"),
    ("other-bot-approve", "/approve"),
    ("other-bot-approve-no-cancel", "/approve no-cancel"),
    ("other-bot-deploy-preview", "/deploy-preview"),
    ("other-bot-test", "/test all"),
    ("other-bot-retest-required", "/retest-required"),
    ("other-bot-cc", "/cc @alice"),
    ("other-bot-ok-to-test", "/ok-to-test"),
    ("other-bot-unterminated-quote", '/label "bug'),
]


@pytest.mark.parametrize("body", [b for _, b in SILENT], ids=[i for i, _ in SILENT])
def test_lines_that_are_not_ours_are_ignored_silently(body: str) -> None:
    assert parse(body) is None


LOOK_ALIKES: list[tuple[str, str]] = [
    ("fullwidth-solidus", "／promote"),
    ("fullwidth-letter", "/ｐromote"),
    ("cyrillic-o", "/prоmote"),
    ("greek-omicron", "/prοmote"),
    ("zero-width-space-inside", "/pro\u200bmote"),
    ("zero-width-space-before", "\u200b/promote"),
    ("zero-width-space-after", "/promote\u200b"),
    ("zero-width-joiner-inside", "/pro\u200dmote"),
    ("soft-hyphen-inside", "/pro\u00admote"),
    ("bom-before", "\ufeff/promote"),
    ("rtl-mark-before", "\u200f/promote"),
    ("rtl-override-after", "/promote\u202e"),
    ("nbsp-before", "\u00a0/promote"),
    ("nbsp-before-args", "/rollback\u00a01.0"),
    ("nbsp-after", "/promote\u00a0now"),
    ("ideographic-space-after", "/promote\u3000"),
    ("line-separator-after", "/promote\u2028/cancel"),
    ("combining-mark", "/promote\u0301"),
    ("vertical-tab-after", "/promote\x0b"),
]


@pytest.mark.parametrize("body", [b for _, b in LOOK_ALIKES], ids=[i for i, _ in LOOK_ALIKES])
def test_look_alike_or_invisible_characters_never_make_a_command(body: str) -> None:
    assert parse(body) is None


# --------------------------------------------------------------------------- refusals

REFUSED: list[tuple[str, str, str, str | None, str | None]] = [
    # id, body, words in the reason, usage, suggestion
    (
        "near-miss-missing-letter",
        "/promot",
        "`/promot` is not a promobot command",
        None,
        "did you mean /promote?",
    ),
    ("near-miss-dropped-letter", "/prmote", "not a promobot command", None, "did you mean /promote?"),
    ("near-miss-rollback", "/rolback", "not a promobot command", None, "did you mean /rollback?"),
    ("near-miss-upper-case", "/PROMOT", "not a promobot command", None, "did you mean /promote?"),
    ("near-miss-prefix", "/prom", "not a promobot command", None, "did you mean /promote?"),
    ("near-miss-swap", "/cancle", "not a promobot command", None, "did you mean /cancel?"),
    ("near-miss-alias", "/gate", "not a promobot command", None, "did you mean /gates?"),
    ("near-miss-punctuation", "/promote!", "not a promobot command", None, "did you mean /promote?"),
    ("near-miss-by-meaning", "/revert", "not a promobot command", None, "did you mean /rollback?"),
    ("promote-extra-word", "/promote now", "/promote takes no arguments", "/promote", None),
    ("promote-extra-empty-quotes", '/promote ""', "/promote takes no arguments", "/promote", None),
    ("promote-invisible-arg", "/promote \u200b", "\\u200b", "/promote", None),
    ("retest-extra-word", "/retest all", "/retest takes no arguments", "/retest", None),
    ("gates-extra-word", "/gates now", "/retest takes no arguments", "/retest", None),
    ("unhold-extra-word", "/unhold please", "/unhold takes no arguments", "/unhold", None),
    ("cancel-extra-word", "/cancel it", "/cancel takes no arguments", "/cancel", None),
    ("status-extra-word", "/status prod", "/status takes no arguments", "/status", None),
    ("help-extra-word", "/help promote", "/help takes no arguments", "/help", None),
    ("rollback-two-versions", "/rollback 1.0 1.1", "at most one VERSION", "/rollback [VERSION]", None),
    ("rollback-path", "/rollback ../etc", "is not a version", "/rollback [VERSION]", None),
    ("rollback-dash", "/rollback -1", "is not a version", "/rollback [VERSION]", None),
    ("rollback-semicolon", "/rollback v1;rm", "is not a version", "/rollback [VERSION]", None),
    ("rollback-too-long", "/rollback " + "1" * 129, "is not a version", "/rollback [VERSION]", None),
    ("rollback-invisible", "/rollback 1.0\u200b", "is not a version", "/rollback [VERSION]", None),
    ("unterminated-quote-hold", '/hold "waiting for', "unterminated double quote", "/hold [reason…]", None),
    (
        "unterminated-quote-rollback",
        '/rollback "1.0',
        "unterminated double quote",
        "/rollback [VERSION]",
        None,
    ),
    ("hold-cancel-prow-style", "/hold cancel", "nothing was run", "/hold [reason…]", "did you mean /unhold?"),
    ("hold-reason-too-long", "/hold " + "x" * 501, "501 characters", "/hold [reason…]", None),
    ("hold-reason-bell", "/hold bad\x07bell", "U+0007", "/hold [reason…]", None),
    ("hold-reason-rtl-override", "/hold a\u202eb", "U+202E", "/hold [reason…]", None),
    (
        "two-state-changing",
        "/promote\n/hold",
        "one state-changing command per comment",
        None,
        "post each of /promote (line 1), /hold (line 2) in a comment of its own",
    ),
    ("same-state-changing-twice", "/promote\n/promote", "one state-changing command per comment", None, None),
    ("rollback-and-cancel", "/rollback\n\n/cancel", "nothing was run", None, None),
    (
        "near-miss-spoils-comment",
        "/promote\n/stauts",
        "not a promobot command",
        None,
        "did you mean /status?",
    ),
    ("bad-args-spoil-comment", "/status\n/promote now", "takes no arguments", "/promote", None),
    ("nul-byte", "/promote\0", "NUL byte", None, None),
    (
        "over-64-kib",
        "/promote\n" + "x" * MAX_COMMENT_BYTES,
        "comment is over 64 KiB; promobot did not read it",
        None,
        None,
    ),
    ("over-64-kib-in-bytes", "/promote\n" + "é" * (MAX_COMMENT_BYTES // 2), "over 64 KiB", None, None),
]


@pytest.mark.parametrize(
    ("body", "reason", "usage", "suggestion"),
    [(b, r, u, s) for _, b, r, u, s in REFUSED],
    ids=[i for i, *_ in REFUSED],
)
def test_refused_comments_run_nothing_and_say_why(
    body: str, reason: str, usage: str | None, suggestion: str | None
) -> None:
    result = parse(body)
    assert isinstance(result, Refusal)
    assert reason in result.reason
    assert result.usage == usage
    if suggestion is not None:
        assert result.suggestion == suggestion


def test_a_rejection_names_the_line_to_blame() -> None:
    result = parse("thanks!\n\n/promote now")
    assert isinstance(result, Refusal)
    assert result.line == 3


def test_echoed_user_text_cannot_mention_or_break_out_of_code() -> None:
    result = parse("/promote @everyone ``x``")
    assert isinstance(result, Refusal)
    assert "``` @everyone ``x`` ```" in result.reason


def test_approve_is_not_suggested_as_promote() -> None:
    assert slash._near_miss("approve") is None
    assert slash._distance("approve", "promote") > 2


# --------------------------------------------------------------------------- specs, usage, help


def test_every_name_and_alias_resolves_to_a_canonical_spec() -> None:
    assert set(NAMES) == {"promote", "retest", "hold", "unhold", "rollback", "cancel", "status", "help"}
    assert COMMANDS["gates"] is COMMANDS["retest"]
    assert all(COMMANDS[name].name == name for name in NAMES)


@pytest.mark.parametrize(
    ("name", "changing"),
    [
        ("promote", True),
        ("hold", True),
        ("unhold", True),
        ("rollback", True),
        ("cancel", True),
        ("retest", False),
        ("status", False),
        ("help", False),
    ],
    ids=lambda v: str(v),
)
def test_only_commands_that_change_the_pr_are_state_changing(name: str, changing: bool) -> None:
    assert Command(name, (), 1).state_changing is changing


def test_usage_for_accepts_aliases_and_a_leading_slash() -> None:
    assert usage_for("rollback") == "/rollback [VERSION]"
    assert usage_for("/GATES") == "/retest"


def test_usage_for_an_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="/deploy is not a promobot command"):
        usage_for("deploy")


def test_help_lists_only_allowed_commands_in_canonical_order() -> None:
    lines = help_lines(["help", "gates", "promote", "nonsense", "status"])
    assert lines == [
        "`/promote` — merge this promotion PR if ready; otherwise reply with exactly what blocks it",
        "`/retest` (alias `/gates`) — re-evaluate gates and approvals, update the checks",
        "`/status` — reply with the model's version in every environment and this PR's readiness",
        "`/help` — reply with the commands you may run here",
    ]


def test_help_for_nobody_is_empty() -> None:
    assert help_lines([]) == []


# --------------------------------------------------------------------------- cost


@pytest.mark.parametrize(
    "body",
    [
        "".join("`" * n + " " for n in range(1, 360)) + "\n/promote",
        "\\" * 30000 + "`" * 100,
        ("a `b\n/status\n" * 5000),
        ("<!-- " * 12000),
    ],
    ids=["many-backtick-run-lengths", "long-backslash-run", "many-open-code-spans", "many-comment-openers"],
)
def test_a_hostile_64_kib_comment_is_read_quickly(body: str) -> None:
    started = time.perf_counter()
    parse(body)
    assert time.perf_counter() - started < 2.0


def test_the_command_table_owns_order_read_only_defaults_and_where_a_command_runs() -> None:
    from bot.core import authz, command_table

    assert authz.COMMAND_ORDER == command_table.NAMES and authz.READ_ONLY_COMMANDS == ("status", "help")
    every = ["promote", "retest", "hold", "unhold", "rollback", "cancel", "status", "help"]
    assert command_table.offered_on("open", promotion=True) == [c for c in every if c != "rollback"]
    assert command_table.offered_on("merged", promotion=True) == ["promote", "rollback", "status", "help"]
    assert command_table.offered_on("merged", promotion=False) == ["status", "help"]
    assert command_table.offered_on("closed", promotion=True) == ["status", "help"]
    assert [c for c in every if command_table.runs_on(c, "closed")] == ["rollback", "status", "help"]
    assert [c for c in every if command_table.runs_on(c, "merged")] == [
        "promote",
        "rollback",
        "status",
        "help",
    ]
    assert command_table.runs_on("gates", "open") and not command_table.runs_on("gates", "merged")  # an alias
    assert not command_table.runs_on("approve", "open")

"""Property tests for the slash-command grammar: whatever a comment holds, parse stays inside its contract."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.command_table import COMMANDS, NAMES
from bot.core.slash import MAX_REASON_CHARS, Command, Refusal, is_valid_version, parse

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAME_POOL = [*COMMANDS, "PROMOTE", "Hold", "promot", "rolback", "approve", "lgtm", "test", "deploy-preview"]
TEXT = st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\0")  # NUL refuses a whole comment

# A line that is plain prose or a command, with nothing that opens or closes markdown context.
SAFE = st.characters(categories=["Ll", "Lu", "Nd"], include_characters=' ./"-+_', max_codepoint=127)
command_lines = st.builds(
    lambda lead, name, args: f"{lead}/{name}{args}",
    st.sampled_from(["", " ", "  ", "   "]),
    st.sampled_from(NAME_POOL),
    st.one_of(st.just(""), st.text(TEXT, max_size=30).map(lambda s: " " + s)),
)
safe_command_lines = st.builds(
    lambda name, args: f"/{name}{args}",
    st.sampled_from(NAME_POOL),
    st.one_of(st.just(""), st.text(SAFE, max_size=20).map(lambda s: " " + s)),
)
markdown_lines = st.sampled_from(
    [
        "```",
        "~~~",
        "```yaml",
        "> quoted",
        "<!--",
        "-->",
        "<!-- x -->",
        "`",
        "``",
        "    /promote",
        "",
        "- ```",
        "<pre>",
        "</pre>",
        "> /promote",
        "`/promote`",
        "text <!-- /promote",
        "\t/cancel",
    ]
)
any_lines = st.lists(st.one_of(command_lines, markdown_lines, st.text(TEXT, max_size=40)), max_size=12)


def _lines(body: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", body)


def _assert_well_formed(body: str, result: list[Command] | Refusal | None) -> None:
    assert result is None or isinstance(result, Refusal | list)
    if not isinstance(result, list):
        return
    assert result, "a list of commands is never empty"
    assert sum(c.state_changing for c in result) <= 1
    read_only = [c.name for c in result if not c.state_changing]
    assert len(read_only) == len(set(read_only))
    lines = _lines(body)
    for command in result:
        assert command.name in NAMES
        assert 1 <= command.line <= len(lines)
        assert lines[command.line - 1].lstrip(" ").startswith("/")
        kind = COMMANDS[command.name].arg_kind
        if kind == "none":
            assert command.args == ()
        elif kind == "version":
            assert len(command.args) <= 1
            assert all(is_valid_version(a) for a in command.args)
        else:
            assert len(command.args) <= 1
            for reason in command.args:
                assert 0 < len(reason) <= MAX_REASON_CHARS
                assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in reason)


@FUZZ
@given(st.text(max_size=300))
def test_any_text_parses_to_none_a_rejection_or_valid_commands(body: str) -> None:
    _assert_well_formed(body, parse(body))


@FUZZ
@given(any_lines, st.sampled_from(["\n", "\r\n"]))
def test_any_mix_of_markdown_and_commands_parses_to_valid_commands(lines: list[str], end: str) -> None:
    body = end.join(lines)
    _assert_well_formed(body, parse(body))


def _fenced(inner: list[str], fence: str) -> list[str]:
    return [fence, *inner, fence.removesuffix("console")]


def _quoted(inner: list[str], _: str) -> list[str]:
    return [f"> {line}" for line in inner]


def _commented(inner: list[str], _: str) -> list[str]:
    return ["<!--", *inner, "-->"]


def _commented_inline(inner: list[str], _: str) -> list[str]:
    return [f"see below <!-- {inner[0]}", *inner[1:], "--> done"] if inner else []


WRAPPERS = {"fence": _fenced, "quote": _quoted, "comment": _commented, "comment-inline": _commented_inline}


@FUZZ
@given(
    before=st.lists(st.one_of(safe_command_lines, st.text(SAFE, max_size=20)), max_size=4),
    inner=st.lists(st.one_of(command_lines, st.text(TEXT, max_size=30)), min_size=1, max_size=6),
    after=st.lists(st.one_of(safe_command_lines, st.text(SAFE, max_size=20)), max_size=4),
    wrapper=st.sampled_from(sorted(WRAPPERS)),
    fence=st.sampled_from(["```", "~~~", "```console", "~~~~"]),
)
def test_commands_inside_a_fence_quote_or_comment_never_come_out(
    before: list[str], inner: list[str], after: list[str], wrapper: str, fence: str
) -> None:
    if wrapper == "fence":
        inner = [line for line in inner if "```" not in line and "~~~" not in line]
    if wrapper.startswith("comment"):
        inner = [line for line in inner if "-->" not in line]
    wrapped = WRAPPERS[wrapper](inner, fence)
    hidden = range(len(before) + 1, len(before) + len(wrapped) + 1)
    result = parse("\n".join([*before, *wrapped, *after]))
    if isinstance(result, list):
        assert not any(command.line in hidden for command in result)
    if isinstance(result, Refusal) and result.line is not None:
        assert result.line not in hidden
    if not before and not after:
        assert result is None


# Lines whose meaning does not depend on their neighbours (no fences, comments or backticks).
ALONE = [
    "/promote",
    "/hold why not",
    "/unhold",
    "/rollback 1.0",
    "/cancel",
    "/status",
    "/help",
    "/retest",
    "/gates",
    "/promot",
    "/promote now",
    '/hold "open',
    "/rollback ../x",
    "/approve",
    "/lgtm",
    "LGTM",
    "please /promote",
    "> /promote",
    "/prоmote",
]


@FUZZ
@given(st.lists(st.sampled_from(ALONE), min_size=1, max_size=6))
def test_one_refused_line_or_two_state_changing_lines_refuse_the_whole_comment(lines: list[str]) -> None:
    alone = [parse(line) for line in lines]
    result = parse("\n".join(lines))
    changing = [c for r in alone if isinstance(r, list) for c in r if c.state_changing]
    if any(isinstance(r, Refusal) for r in alone) or len(changing) > 1:
        assert isinstance(result, Refusal)
    elif all(r is None for r in alone):
        assert result is None
    else:
        assert isinstance(result, list)
        names = [c.name for r in alone if isinstance(r, list) for c in r]
        assert [c.name for c in result] == list(dict.fromkeys(names))


NON_ASCII = st.characters(min_codepoint=128, exclude_categories=["Cs"])


@FUZZ
@given(st.sampled_from([*COMMANDS]), NON_ASCII, st.data())
def test_a_non_ascii_character_anywhere_in_the_command_word_makes_it_nobodys(
    name: str, intruder: str, data: st.DataObject
) -> None:
    word = f"/{name}"
    at = data.draw(st.integers(min_value=0, max_value=len(word)), label="position")
    assert parse(word[:at] + intruder + word[at:]) is None


@FUZZ
@given(st.sampled_from([n for n, s in COMMANDS.items() if s.arg_kind != "reason"]), NON_ASCII)
def test_an_invisible_or_foreign_argument_is_refused_not_dropped(name: str, intruder: str) -> None:
    result = parse(f"/{name} {intruder}")
    assert isinstance(result, Refusal)

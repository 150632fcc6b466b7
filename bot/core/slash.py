"""The slash-command grammar (reference §7): a comment body → commands to run, a refusal, or nothing.

``parse(body)`` answers one of three ways:

* ``None`` — nothing here for promobot (no command, or only another bot's commands): stay silent;
* a ``Refusal`` — reply with its reason (plus usage and "did you mean"); nothing runs;
* a ``list[Command]`` — at most one state-changing command, plus any read-only ones, in comment order.

The rules, written for the person who has to predict what the bot will do:

* A command is a line whose first character after optional spaces/tabs is ``/``, followed at once by a
  command name (ASCII letters, case-insensitive), then space/tab separated arguments. Double quotes
  group words; an unterminated quote is refused. The comment is never normalised: a name containing
  anything other than printable ASCII (a fullwidth ``／``, a Cyrillic ``о``, a zero-width space, an NBSP
  instead of a space) is not a command, silently.
* Not commands: lines indented by 4 columns or more (markdown code), lines inside fenced code blocks
  (backticks or tildes, also fences opened in a list item; an unclosed fence runs to the end),
  block-quote lines (``>``), HTML comments (also multi-line and mid-line; an unclosed ``<!--`` runs to
  the end), raw ``<pre>``/``<script>``/``<style>``/``<textarea>`` blocks, and lines whose ``/`` falls
  inside an inline code span (also one opened on an earlier line of the same paragraph).
  A comment span inside a command line counts as a space: it can separate words, never join them.
* Limits of the markdown reading, all on the side of *not* running: a ``<!--`` is taken as the start of
  a comment wherever it stands outside a fence or a one-line code span, and a quoted line followed
  by a plain ``/promote`` line counts the latter as a command (we read lines, not lazy continuations).
* Names: promote, retest (alias gates), hold, unhold, rollback, cancel, status, help. Another name is
  someone else's (``/approve``, ``/lgtm``, ``/test``) and is ignored, unless it is a near miss of one of
  ours (``/promot``, ``/rolback``, ``/prom``): then the reply says "did you mean /promote?".
* Arguments never change meaning silently: a command that takes none refuses any; ``/rollback`` takes at
  most one VERSION; ``/hold`` takes a free-text reason (quotes removed, blanks collapsed, at most 500
  characters, no control or invisible format characters). ``/hold cancel`` (Prow's way to lift a hold)
  is refused with a pointer to ``/unhold`` rather than holding with the reason "cancel".
* One state-changing command per comment; read-only duplicates collapse to one.
* A comment over 64 KiB (UTF-8) or with a NUL byte is refused unread. CRLF and CR line ends work.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from bot.core.command_table import COMMANDS, CommandSpec

MAX_COMMENT_BYTES = 64 * 1024
MAX_REASON_CHARS = 500
VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,127}$")
"""A ``/rollback`` VERSION; always applied with ``fullmatch``."""

_MEANT = {"revert": "rollback"}
"""Near misses by meaning, where the spelling would point at the wrong command (revert ≈ retest)."""
_HOLD_LIFT_WORDS = frozenset({"cancel", "off", "remove", "lift", "release"})
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Zl", "Zp"})
_ZWJ = "\u200d"  # joins emoji sequences; the one format character a reason may hold


@dataclass(frozen=True, slots=True)
class Command:
    """One command taken from a comment. ``args`` are validated; ``/hold``'s is ``(reason,)`` or ``()``."""

    name: str
    args: tuple[str, ...]
    line: int

    @property
    def state_changing(self) -> bool:
        return COMMANDS[self.name].state_changing


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a comment's commands were refused. ``usage`` is a bare usage line such as ``/rollback [VERSION]``;
    ``suggestion`` is what to do instead ("did you mean /promote?"). ``line`` is 1-based, when one line is
    to blame."""

    reason: str
    usage: str | None = None
    suggestion: str | None = None
    line: int | None = None


def is_valid_version(text: str) -> bool:
    """True when ``text`` may be given to ``/rollback``."""
    return VERSION_RE.fullmatch(text) is not None


# --------------------------------------------------------------------------- parse


def parse(body: str) -> list[Command] | Refusal | None:
    """Read the slash-commands of one comment (see the module docstring for the rules)."""
    if len(body) > MAX_COMMENT_BYTES or len(body.encode("utf-8", "surrogatepass")) > MAX_COMMENT_BYTES:
        return Refusal(
            "comment is over 64 KiB; promobot did not read it",
            suggestion="post the command in a short comment of its own",
        )
    if "\0" in body:
        return Refusal(
            "comment contains a NUL byte; promobot did not read it",
            suggestion="post the command again without it",
        )
    found: list[Command] = []
    for number, text in _command_lines(body):
        outcome = _parse_line(text, number)
        if isinstance(outcome, Refusal):
            return outcome
        if outcome is not None:
            found.append(outcome)
    if not found:
        return None
    changing = [c for c in found if c.state_changing]
    if len(changing) > 1:
        listed = ", ".join(f"/{c.name} (line {c.line})" for c in changing)
        return Refusal(
            "one state-changing command per comment; nothing was run",
            suggestion=f"post each of {listed} in a comment of its own",
        )
    seen: set[str] = set()
    kept: list[Command] = []
    for command in found:
        if command.state_changing or command.name not in seen:
            seen.add(command.name)
            kept.append(command)
    return kept


def _parse_line(text: str, number: int) -> Command | Refusal | None:
    """One candidate line (it starts with optional blanks and ``/``) → a command, a refusal, or nothing."""
    rest = text.lstrip(" \t")[1:]
    token = re.match(r"[^ \t]*", rest)
    assert token is not None  # [^ \t]* always matches
    name = token.group()
    if not name or any(not "!" <= ch <= "~" for ch in name):
        return None  # "/ x", a path-like "/", or a look-alike: not ours, say nothing
    spec = COMMANDS.get(name.lower()) if name.isalpha() else None
    if spec is None:
        near = _near_miss(name.lower())
        if near is None:
            return None
        return Refusal(
            f"{_show('/' + name)} is not a promobot command", suggestion=f"did you mean /{near}?", line=number
        )
    args = _split_args(rest[len(name) :])
    if args is None:
        return Refusal(
            f"unterminated double quote in /{spec.name}; nothing was run", usage=spec.usage, line=number
        )
    return _validate(spec, args, number)


def _validate(spec: CommandSpec, args: list[str], number: int) -> Command | Refusal:
    if spec.arg_kind == "none":
        if args:
            return Refusal(
                f"/{spec.name} takes no arguments, but got {_show(' '.join(args))}; nothing was run",
                usage=spec.usage,
                line=number,
            )
        return Command(spec.name, (), number)
    if spec.arg_kind == "version":
        if len(args) > 1:
            return Refusal(
                f"/rollback takes at most one VERSION, but got {len(args)} arguments; nothing was run",
                usage=spec.usage,
                line=number,
            )
        if args and not is_valid_version(args[0]):
            return Refusal(
                f"{_show(args[0])} is not a version: it must start with a letter or digit and have at most "
                "128 letters, digits and `. _ + -`; nothing was run",
                usage=spec.usage,
                line=number,
            )
        return Command(spec.name, tuple(args), number)
    reason = " ".join(args).strip(" ")  # lines arrive with tabs expanded
    if not reason:
        return Command(spec.name, (), number)
    if reason.lower() in _HOLD_LIFT_WORDS:
        return Refusal(
            f"`/hold {reason}` would put a hold on with the reason {_show(reason)}; nothing was run",
            usage=spec.usage,
            suggestion="did you mean /unhold?",
            line=number,
        )
    if len(reason) > MAX_REASON_CHARS:
        return Refusal(
            f"the hold reason is {len(reason)} characters long; the most is {MAX_REASON_CHARS}; "
            "nothing was run",
            usage=spec.usage,
            line=number,
        )
    for ch in reason:
        category = unicodedata.category(ch)
        if category in _REFUSED_CATEGORIES or (category == "Cf" and ch != _ZWJ):
            return Refusal(
                f"the hold reason contains a control or invisible character (U+{ord(ch):04X}); "
                "nothing was run",
                usage=spec.usage,
                line=number,
            )
    return Command(spec.name, (reason,), number)


def _split_args(text: str) -> list[str] | None:
    """Split on spaces and tabs; double quotes group (``a"b c"`` is one word). None: a quote is left open."""
    words: list[str] = []
    current: list[str] = []
    in_word = quoted = False
    for ch in text:
        if quoted:
            if ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = in_word = True
        elif ch in " \t":
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        else:
            current.append(ch)
            in_word = True
    if quoted:
        return None
    if in_word:
        words.append("".join(current))
    return words


def _show(text: str, limit: int = 60) -> str:
    """User text made safe to echo in a reply: shortened, invisible characters spelled out, in a code span
    (so that an ``@mention`` pings nobody and markdown stays inert)."""
    if len(text) > limit:
        text = text[:limit] + "…"
    text = "".join(
        ch if ch == " " or unicodedata.category(ch)[0] not in "CZ" else f"\\u{ord(ch):04x}" for ch in text
    )
    ticks = max((len(m) for m in re.findall(r"`+", text)), default=0) + 1
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{'`' * ticks}{pad}{text}{pad}{'`' * ticks}"


# --------------------------------------------------------------------------- near misses


def _near_miss(token: str) -> str | None:
    """The name (or alias) a mistyped token most likely meant, or None when it is nobody's typo of ours.

    A near miss is a prefix of one of our names of 4+ letters (``/prom``), or within an edit distance
    (with transpositions) of 1 for short words and 2 when both words have 6+ letters. So ``/test`` (Prow)
    and ``/approve`` (distance 3) stay someone else's.
    """
    if token in _MEANT:
        return _MEANT[token]
    if len(token) < 3 or len(token) > 12:
        return None
    best: tuple[int, str] | None = None
    for name in COMMANDS:
        distance = _distance(token, name)
        allowed = 2 if min(len(token), len(name)) >= 6 else 1
        if len(token) >= 4 and name.startswith(token):
            distance = min(distance, 1)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, name)
    return None if best is None else best[1]


def _distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[len(b)]


# --------------------------------------------------------------------------- markdown


_LINE_END = re.compile(r"\r\n|\r|\n")
_FENCE_OPEN = re.compile(r"(?P<lead> {0,3}(?:(?:[-+*]|\d{1,9}[.)]) +)*)(?P<fence>`{3,}|~{3,})(?P<info>.*)")
_FENCE_CLOSE = re.compile(r"(?P<lead> *)(?P<fence>`{3,}|~{3,}) *")
_RAW_OPEN = re.compile(r" {0,3}<(?:pre|script|style|textarea)(?:[ \t>]|$)", re.IGNORECASE)
_RAW_CLOSE = re.compile(r"</(?:pre|script|style|textarea)>", re.IGNORECASE)

_Kind = Literal["text", "candidate", "break"]


@dataclass(frozen=True, slots=True)
class _Fence:
    char: str
    length: int
    content_indent: int  # columns of a list item's content; 0 at top level


def _command_lines(body: str) -> list[tuple[int, str]]:
    """``(line number, visible text)`` of every line that may hold a command, markdown context applied."""
    lines = _classify(body)
    result: list[tuple[int, str]] = []
    start = 0
    while start < len(lines):  # paragraphs: code spans may cross lines inside one
        if lines[start][0] == "break":
            start += 1
            continue
        end = start
        while end < len(lines) and lines[end][0] != "break":
            end += 1
        paragraph = lines[start:end]
        if any(kind == "candidate" for kind, _ in paragraph):
            joined = "\n".join(text for _, text in paragraph)
            spans = _code_spans(joined)
            offset = 0
            for index, (kind, text) in enumerate(paragraph):
                slash = offset + len(text) - len(text.lstrip(" \t"))
                if kind == "candidate" and not _inside(spans, slash):
                    result.append((start + index + 1, text))
                offset += len(text) + 1
        start = end
    return result


def _classify(body: str) -> list[tuple[_Kind, str]]:
    """One ``(kind, visible text)`` per line. ``break`` lines (blank, fenced, raw HTML, inside a comment)
    end a paragraph; ``candidate`` lines start with ``/`` where a command may stand."""
    out: list[tuple[_Kind, str]] = []
    fence: _Fence | None = None
    raw_block = in_comment = False
    for raw in _LINE_END.split(body):
        line = raw.expandtabs(4)
        if fence is not None:
            if _closes(line, fence):
                fence = None
                out.append(("break", ""))
                continue
            if not (fence.content_indent and line.strip() and _indent(line) < fence.content_indent):
                out.append(("break", ""))
                continue
            fence = None  # the list item that held the fence ended: this line is read normally
        if raw_block:
            raw_block = _RAW_CLOSE.search(line) is None
            out.append(("break", ""))
            continue
        if in_comment:
            _, in_comment = _strip_comments(line, in_comment=True)
            out.append(("break", ""))  # a line that starts hidden is never a command
            continue
        opened = _opens_fence(line)
        if opened is not None:
            fence = opened
            out.append(("break", ""))
            continue
        raw_open = _RAW_OPEN.match(line)
        if raw_open is not None:
            raw_block = _RAW_CLOSE.search(line, raw_open.end()) is None
            out.append(("break", ""))
            continue
        visible, in_comment = _strip_comments(line, in_comment=False)
        if not line.strip(" \t"):
            out.append(("break", ""))
        elif _indent(line) < 4 and line.lstrip(" ").startswith("/"):
            out.append(("candidate", visible))
        else:
            out.append(("text", visible))
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _opens_fence(line: str) -> _Fence | None:
    match = _FENCE_OPEN.fullmatch(line)
    if match is None:
        return None
    fence = match.group("fence")
    if fence[0] == "`" and "`" in match.group("info"):
        return None  # CommonMark: not a fence but inline code
    return _Fence(fence[0], len(fence), len(match.group("lead")) if match.group("lead").strip() else 0)


def _closes(line: str, fence: _Fence) -> bool:
    match = _FENCE_CLOSE.fullmatch(line)
    return (
        match is not None
        and match.group("fence")[0] == fence.char
        and len(match.group("fence")) >= fence.length
        and len(match.group("lead")) <= fence.content_indent + 3
    )


def _strip_comments(line: str, *, in_comment: bool) -> tuple[str, bool]:
    """Replace each HTML comment span by one space; say whether a comment is still open at the end."""
    parts: list[str] = []
    pos = 0
    if in_comment:
        end = line.find("-->")
        if end < 0:
            return " ", True
        parts.append(" ")
        pos = end + 3
    spans = _code_spans(line[pos:])
    while True:
        start = line.find("<!--", pos)
        while start >= 0 and _inside(spans, start - pos):
            start = line.find("<!--", start + 1)
        if start < 0:
            parts.append(line[pos:])
            return "".join(parts), False
        parts.append(line[pos:start])
        parts.append(" ")
        end = line.find("-->", start + 4)
        if end < 0:
            return "".join(parts), True
        pos = end + 3
        spans = _code_spans(line[pos:])


def _inside(spans: list[tuple[int, int]], position: int) -> bool:
    """Whether ``position`` falls in one of ``spans`` (sorted, not overlapping)."""
    index = bisect.bisect_right(spans, position, key=lambda span: span[0]) - 1
    return index >= 0 and spans[index][0] <= position < spans[index][1]


def _code_spans(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each inline code span (CommonMark: a backtick run closed by the next run of the
    same length; an escaped run opens nothing)."""
    runs: list[tuple[int, int, bool]] = []  # (start, length, escaped)
    for match in re.finditer(r"`+", text):
        before = match.start()
        while before > 0 and text[before - 1] == "\\":
            before -= 1
        runs.append((match.start(), len(match.group()), (match.start() - before) % 2 == 1))
    by_length: dict[int, list[int]] = {}
    for index, (_, length, _) in enumerate(runs):
        by_length.setdefault(length, []).append(index)
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(runs):
        start, length, escaped = runs[index]
        if escaped:
            index += 1
            continue
        same = by_length[length]
        after = bisect.bisect_right(same, index)
        if after == len(same):
            index += 1
            continue
        close = same[after]
        spans.append((start, runs[close][0] + length))
        index = close + 1
    return spans

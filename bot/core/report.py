"""Text and markdown for the CLI: aligned tables for people, markdown for job summaries.

Each function takes the JSON-shaped data a command also prints with ``--output json``,
so the three outputs can never disagree.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from bot.core.inline import RESULT_ICON, code, fenced, plain
from bot.core.paths import ENV_DIR, REJECTED_PATH

Row = Sequence[str]

# Escape sequences first (so "ESC ] 52 ; c ; <base64> BEL" goes whole, not just its ESC), then
# any C0/C1 control character left, except newline and tab. OSC/DCS/APC/PM strings end with
# BEL or ST (ESC \\, or C1 0x9c) or, unterminated, at the end of the line; CSI sequences
# (cursor moves, colours) end with a final byte.
_ESCAPE_RE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|(?=\n)|\Z)"  # OSC, DCS, SOS, PM, APC
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\x1b[ -/]*[0-~]?"  # other ESC sequences
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def terminal(text: str, *, markdown: bool = False) -> str:
    """``text`` safe to print on a terminal: no escape sequences, no control characters.

    The one place text output is cleaned (the CLI's text emit path, its errors and its log
    lines): comment bodies, logins and manifest values can carry OSC 52 clipboard writes,
    OSC 8 links or cursor moves that would rewrite what the reader sees. Newlines and tabs
    stay; carriage returns go (they rewrite a line). The zero-width space that markdown
    output puts after ``@`` (so that GitHub does not notify a team) goes too: a terminal
    has no mentions, and ``@acme/sre`` must read, and copy, as typed. ``markdown`` output
    (job summaries) keeps it.
    """
    # Every escape sequence starts with a character _CONTROL_RE matches (ESC or a C1 control):
    # text without one (nearly all output) needs neither substitution.
    cleaned = _CONTROL_RE.sub("", _ESCAPE_RE.sub("", text)) if _CONTROL_RE.search(text) else text
    return cleaned if markdown else cleaned.replace("\u200b", "")


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: emoji such as ✅ ❌ ⏳ take two."""
    if text.isascii():  # most cells (a status table has thousands): one column per character
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def table(headers: Row, rows: Sequence[Row], *, markdown: bool = False) -> str:
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out)
    grid = [headers, *rows]  # a status table has thousands of cells: each is measured once
    ascii_rows = ["".join(r).isascii() for r in grid]  # one column per character: nearly all rows
    sizes = [
        [len(c) for c in r] if a else [width(c) for c in r] for r, a in zip(grid, ascii_rows, strict=True)
    ]
    widths = [max(column) for column in zip(*sizes, strict=True)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [
        line.format(*r).rstrip()
        if a
        else "  ".join(c + " " * (w - n) for c, n, w in zip(r, s, widths, strict=True)).rstrip()
        for r, s, a in zip(grid, sizes, ascii_rows, strict=True)
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _md(value: object, markdown: bool) -> str:
    return code(value) if markdown else str(value)


def status(data: Mapping[str, Any], *, markdown: bool = False) -> str:
    envs: list[str] = data["environments"]
    rows = []
    invalid_in: dict[str, set[str]] = {}  # file name → environments where it is invalid
    for path in data.get("errors", {}):
        _, env, name = path.split("/")[:3]
        invalid_in.setdefault(name, set()).add(env)
    flagged: Mapping[str, Sequence[str]] = data.get("rejected") or {}
    nothing: frozenset[str] = frozenset()
    for model, row in data["models"].items():  # a row per model: thousands in a large repository
        rejected = set(flagged[model]) if model in flagged else nothing
        invalid = invalid_in.get(f"{model}.yaml", nothing)
        cells = [model if not markdown else code(model)]
        for env in envs:
            version = row.get(env)
            cell = "invalid!" if env in invalid else ("—" if version is None else str(version))
            if env in rejected:
                cell += " (rejected!)"
            cells.append(code(cell) if markdown and version is not None else cell)
        rows.append(cells)
    parts = [table(["model", *envs], rows, markdown=markdown) if rows else "No models yet."]
    if data.get("drift"):
        parts.append("Drift:" if not markdown else "**Drift**")
        for model, notes in data["drift"].items():
            for note in notes:
                parts.append(f"  {model}: {note}" if not markdown else f"- {code(model)}: {code(note)}")
    parts.extend(_registry_lines(data, markdown=markdown))
    parts.extend(_verification_lines(data, markdown=markdown))
    if data.get("errors"):
        parts.append(
            "Invalid manifests (run `promobot validate`):" if not markdown else "**Invalid manifests**"
        )
        for path, err in data["errors"].items():
            parts.append(f"  {err}" if not markdown else f"- {code(path)}: {code(err)}")
    prs = data.get("pull_requests", [])
    if prs:
        parts.append("Open pull requests:" if not markdown else "**Open pull requests**")
        pr_rows = [
            [
                f"#{p['number']}",
                p["action"],
                _md(p["model"], markdown),
                f"{p['from'] or '?'} → {p['to']}" if p["action"] == "promote" else p["to"],
                _md(p["version"] or "?", markdown),
                {True: "ready", False: "blocked", None: "unknown"}[p["ready"]],
            ]
            for p in prs
        ]
        parts.append(
            table(["pr", "action", "model", "route", "version", "state"], pr_rows, markdown=markdown)
        )
    return "\n".join(parts)


def _verification_lines(data: Mapping[str, Any], *, markdown: bool) -> list[str]:
    """Post-deploy verification per model × environment (reference §15): ✓ verified,
    ⏳ until the window's end, ✗ failed (with why)."""
    details = data.get("verification_details") or {}
    lines = []
    for model, envs in (data.get("verification") or {}).items():
        for env, state in envs.items():
            if state is None:
                continue
            row = (details.get(model) or {}).get(env) or {}
            version = row.get("version", "?")
            if state == "success":
                note = f"✓ {version} verified"
            elif state == "failure":
                note = f"✗ {version} failed verification: {row.get('reason', '')}"
            elif state == "pending":
                note = f"⏳ {version} being verified until {row.get('until', '?')}"
            else:
                note = f"{VERIFY_ICONS.get(state, '?')} {version} {state}"
            lines.append(
                f"  {model} in {env}: {note}"
                if not markdown
                else f"- {code(model)} in {code(env)}: {plain(note)}"
            )
    if not lines:
        return []
    return ["Verification:" if not markdown else "**Verification**", *lines]


def _registry_lines(data: Mapping[str, Any], *, markdown: bool) -> list[str]:
    """MLflow alias drift for ``status`` (README "Keep MLflow in step")."""
    if data.get("registry_error"):
        return [f"MLflow registry not checked: {data['registry_error']}"]
    lines = []
    for model, envs in (data.get("registry") or {}).items():
        for env, row in envs.items():
            if row["drift"]:
                actual = row["version"] or "nothing"
                note = (
                    f"alias {row['alias']} of {row['registered_model']} is on {actual}, "
                    f"git says {row['expected']} (`promobot sync` moves it)"
                )
                lines.append(
                    f"  {model} in {env}: {note}" if not markdown else f"- {code(model)} in {env}: {note}"
                )
    if lines:
        return ["MLflow registry drift:" if not markdown else "**MLflow registry drift**", *lines]
    if data.get("registry"):
        return ["MLflow registry: every alias is where git says."]
    return []


def gates(results: Sequence[Mapping[str, Any]], *, markdown: bool = False) -> str:
    rows = [[r["name"], f"{RESULT_ICON[r['result']]} {r['result']}", r["reason"]] for r in results]
    if markdown:
        rows = [[code(r[0]), r[1], code(r[2])] for r in rows]
    return table(["gate", "result", "reason"], rows, markdown=markdown)


def promote(data: Mapping[str, Any], *, markdown: bool = False) -> str:
    head = (
        f"{'Would promote' if data['dry_run'] else 'Promoting'} {data['model']} {data['version']}"
        f" from {data['from']} to {data['to']}"
        + (f" (now {data['previous_version']})" if data.get("previous_version") else " (new there)")
    )
    lines = [head]
    if data.get("note"):
        lines.append(data["note"])
        return "\n".join(lines)
    if data["dry_run"]:
        lines.append("Plan (nothing was changed):")
        lines += [f"  - {step}" for step in data["plan"]]
    else:
        verb = "opened" if data["created"] else ("updated" if data["changed"] else "unchanged")
        lines.append(f"Pull request #{data['pr']} {verb}.")
    lines.append("")
    lines.append(gates(data["gates"], markdown=markdown))
    lines.append("")
    if data["ready"]:
        lines.append("Ready to merge: `promobot merge " + str(data["pr"]) + "` or comment `/promote`.")
    else:
        lines.append("Not ready yet:")
        lines += [f"  - {b}" for b in data["blockers"]]
    merged = data.get("merged")
    if merged:
        lines.append(merge(merged))
    return "\n".join(lines)


def merge(data: Mapping[str, Any]) -> str:
    if data["merged"]:
        out = [f"Merged #{data['pr']} as {str(data['sha'])[:12]}."]
        out.extend(registry_follow(data.get("registry")))
        for chained in data.get("chained", []):
            out.append(f"Chained: {promote(chained)}")
        return "\n".join(out)
    return f"#{data['pr']} is not ready to merge:\n" + "\n".join(f"  - {b}" for b in data["blockers"])


def registry_follow(follow: Mapping[str, Any] | None) -> list[str]:
    """What happened to the MLflow alias after a merge (README "Keep MLflow in step")."""
    if not follow:
        return []
    if follow.get("error"):
        return [f"MLflow alias not moved: {follow['error']} — `promobot sync` (or the schedule) moves it."]
    moved = follow.get("moved")
    if moved:
        return [
            f"MLflow: alias {moved['alias']} of {moved['registered_model']} moved "
            f"{moved['from'] or '(none)'} → {moved['to']}."
        ]
    return ["MLflow: the alias was already on this version."]


def history(entries: Sequence[Mapping[str, Any]], *, markdown: bool = False) -> str:
    if not entries:
        return "No changes recorded."
    rows = []
    for e in entries:
        change = f"{e['previous_version'] or '—'} → {e['version'] or '—'}"
        extra = []
        if e.get("pr"):
            extra.append(f"#{e['pr']}")
        if e.get("approved_by"):
            extra.append("approved by " + ", ".join(e["approved_by"]))
        if e.get("rollback_of"):
            extra.append(f"reverts {e['rollback_of'][:12]}")
        caused = e.get("caused_by_verification")
        if caused:
            extra.append(f"after failed verification ({caused['check']})")
        checked = e.get("verification")
        if checked:
            extra.append(_verification_note(checked))
        rows.append(
            [e["at"][:16].replace("T", " "), e["sha"][:12], e["env"], e["action"], change, "; ".join(extra)]
        )
    if markdown:
        rows = [[r[0], code(r[1]), code(r[2]), r[3], code(r[4]), code(r[5]) if r[5] else ""] for r in rows]
    return table(["when (UTC)", "commit", "env", "action", "version", "details"], rows, markdown=markdown)


VERIFY_ICONS = {"success": "✓", "failure": "✗", "pending": "⏳", "inactive": "·"}


def _verification_note(checked: Mapping[str, Any]) -> str:
    """``history``'s note on a commit's post-deploy verification (and the rollback it caused)."""
    state = str(checked["state"])
    icon = VERIFY_ICONS.get(state, "?")
    if state == "failure":
        note = f"{icon} verification failed: {checked['reason']}"
        if checked.get("rolled_back_by"):
            note += f" → rolled back by {str(checked['rolled_back_by'])[:12]}"
        return note
    return f"{icon} verification " + {"success": "passed", "pending": "running"}.get(state, state)


def validation(data: Mapping[str, Any]) -> str:
    def located(item: Mapping[str, Any]) -> str:
        message = str(item["message"])
        return message if message.startswith(str(item["file"])) else f"{item['file']}: {message}"

    lines = [f"error: {located(e)}" for e in data["errors"]]
    lines += [f"warning: {w['file']}: {w['message']}" for w in data["warnings"]]
    verdict = "ok" if data["ok"] else f"{len(data['errors'])} error(s)"
    lines.append(f"{data['checked']} file(s) checked: {verdict}")
    return "\n".join(lines)


def diff(data: Mapping[str, Any], *, markdown: bool = False) -> str:
    """``promobot diff``: the promoted change, the metrics table and the gates."""

    head = f"{data['model']}: {data['from']} → {data['to']}, " + (
        f"{data['previous_version']} → {data['version']}"
        if data["previous_version"]
        else f"new in {data['to']} ({data['version']})"
    )
    parts = [head, ""]
    if not data["changed"]:
        parts.append(f"{data['to']} already has these promoted keys; nothing to promote.")
        return "\n".join(parts)
    parts.append(fenced(data["diff"], "diff") if markdown else data["diff"].rstrip("\n"))
    metrics: Sequence[Mapping[str, str]] = data["metrics"]
    if metrics:
        parts += [
            "",
            table(
                ["metric", "candidate", data["to"], "delta", "gate"],
                [[m["name"], m["candidate"], m["incumbent"], m["delta"], m["gate"]] for m in metrics],
                markdown=markdown,
            ),
        ]
    parts += ["", gates(data["gates"], markdown=markdown)]
    return "\n".join(parts)


def pr_show(data: Mapping[str, Any]) -> str:
    """``promobot pr show N``: state, branch, checks, approvals and the last comments."""
    lines = [f"#{data['number']} {data['title']} [{data['state']}]"]
    lines.append(f"branch {data['head_branch']} @ {data['head_sha'][:12]} → {data['base_branch']}")
    if data["labels"]:
        lines.append("labels: " + ", ".join(data["labels"]))
    lines.append("checks:")
    for name, result in data["checks"].items():
        lines.append(f"  {name}: {result or 'not posted'}")
    for name in data["foreign_checks"]:
        lines.append(f"  warning: a check named {name} was posted by someone other than promobot (ignored)")
    appr = data["approvals"]
    if appr["required"] is not None:
        lines.append(
            f"approvals: {len(appr['counted'])} of {appr['required']}"
            + (f" (counted: {', '.join(appr['counted'])})" if appr["counted"] else "")
        )
        for item in appr["blocking"]:
            lines.append(f"  {item['login']}: {item['reason']} (blocks)")
        for item in appr["ignored"]:
            lines.append(f"  {item['login']}: {item['reason']}")
    if data["comments"]:
        lines.append(f"comments ({len(data['comments'])}):")
        for c in data["comments"][-10:]:
            first = c["body"].strip().splitlines()[0] if c["body"].strip() else ""
            lines.append(f"  #{c['id']} {c['author']}: {first[:100]}")
    return "\n".join(lines)


def rollback(data: Mapping[str, Any], *, reverts_subject: str) -> str:
    """``promobot rollback``: what is rolled back, what it reverts and restores, and what happens next.

    ``data`` is the rollback's JSON (reference §9); ``reverts_subject`` the reverted commit's subject.
    """
    lines = [
        f"Rolling back {data['model']} in {data['env']}: {data['rolled_back']} → {data['version']}",
        f"Reverts {data['reverts'][:12]} ({reverts_subject}); "
        f"restores the manifest of {data['restores'][:12]}.",
    ]
    if data["rejected"]:
        when = "would be added" if data["dry_run"] else "is added" if data["direct"] else "is added on merge"
        lines.append(f"{data['rolled_back']} {when} to {REJECTED_PATH}.")
    merged = data.get("merged")
    if data["dry_run"]:
        lines.append("Dry run: nothing changed. The plan:")
        lines.extend(f"  - {step}" for step in data["plan"])
    elif data["direct"]:
        lines.append(
            f"Committed {(data['sha'] or '')[:12]} straight to the default branch (no pull request)."
        )
    else:
        verb = "opened" if data["created"] else "updated"
        lines.append(f"Rollback pull request #{data['pr']} {verb}.")
        if merged is not None and merged["merged"]:
            lines.append(f"Merged as {(merged['sha'] or '')[:12]} (auto_merge).")
        elif data["ready"]:
            lines.append(f"Ready: `promobot merge {data['pr']}` (or /promote) merges it.")
        else:
            lines.append("Not ready yet:")
            lines.extend(f"  - {b}" for b in data["blockers"])
    return "\n".join(lines)


def sync(data: Mapping[str, Any], *, configured: bool) -> str:
    """``promobot sync``: the aliases moved (or that would move) and how many already agreed."""
    if not configured:
        return "No mlflow provider in the policy: there is no registry to keep in step."
    verb = "would move" if data["dry_run"] else "moved"
    lines = [
        f"{verb} {m['registered_model']} alias {m['alias']} ({m['model']} in {m['env']}): "
        f"{m['from'] or '(none)'} → {m['to']}"
        for m in data["moved"]
    ]
    lines.append(f"{data['unchanged']} alias(es) already where git says.")
    return "\n".join(lines)


def init(data: Mapping[str, Any], *, placeholder: str, workflow: str) -> str:
    """``promobot init``: what was written and committed, and the commands to run next.

    ``placeholder``: the repository the workflow names until the user pins theirs; ``workflow``:
    the workflow's path.
    """
    where = "a new git repository" if data["created_repository"] else "the existing git repository"
    lines = [
        f"Initialised {data['path']} as a promobot GitOps repository ({where}, branch {data['branch']}).",
        f"Committed {len(data['files'])} files as {data['commit'][:12]}:",
        *(f"  {p}" for p in _summarise(data["files"])),
    ]
    action = data.get("action")
    if action is not None and not action["pinned"]:
        lines.append(
            f"The workflow uses the placeholder {placeholder}@<40 zeros>: put promobot's "
            f"repository and the commit SHA of the release you use there ({workflow})."
        )
    lines.append("Next:")
    repo = "" if data["path"] == "." else f" --repo {data['path']}"
    lines.append(f"  promobot{repo} validate")
    if data["example"]:
        lines.append(f"  promobot{repo} promote fraud-detector --to staging")
    else:
        lines.append("  add environments/dev/<model>.yaml (`promobot init --example` shows complete ones)")
    return "\n".join(lines)


def _summarise(paths: Sequence[str]) -> list[str]:
    """One line per file, except the example's artifacts: one line per folder of them."""
    out: dict[str, None] = {}
    for path in paths:
        parts = path.split("/")
        if parts[:2] == [ENV_DIR, "artifacts"] and len(parts) > 3:
            out[f"{ENV_DIR}/artifacts/{parts[2]}/…"] = None
        else:
            out[path] = None
    return list(out)

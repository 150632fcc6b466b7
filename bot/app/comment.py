"""A comment on a pull request, read for slash-commands and acted on (``/promote``, ``/retest``,
``/hold``, ``/unhold``, ``/cancel``, ``/rollback``, ``/status``, ``/help``).

Order of business for one comment: ignore what must be ignored (edits, bots, the bot
itself, comments already answered), parse, authorise every command against the
base-branch policy, run, and answer exactly once with a reply that names the comment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.app.assess import assess_pr
from bot.app.authority import decide
from bot.app.context import Context
from bot.app.evaluate import evaluate_pr
from bot.app.facts import pr_context
from bot.app.promote import merge
from bot.app.rollback import rollback_from_pr
from bot.app.status import status
from bot.core import authz, command_table, inline, render, slash
from bot.core.branches import parse_branch
from bot.core.identity import is_bot
from bot.core.marker import parse_state, replied_to, reply_marker
from bot.core.messages import blockers_reply
from bot.core.model import LABEL_HOLD, PullRequest
from bot.core.policy_model import Policy
from bot.errors import BotError, NotAuthorized, OutageError

REACT_SEEN, REACT_DONE, REACT_REFUSED = "eyes", "rocket", "confused"


@dataclass
class CommentOutcome:
    handled: bool
    reason: str
    commands: list[str] = field(default_factory=list)
    reply: str | None = None
    merged: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "handled": self.handled,
            "reason": self.reason,
            "commands": self.commands,
            "reply": self.reply,
            "merged": self.merged,
            **self.detail,
        }


def handle_comment(
    ctx: Context, *, number: int, comment_id: int, author: str, body: str, action: str = "created"
) -> CommentOutcome:
    """Read one PR comment for slash-commands and act on them (at most once per comment)."""
    if action != "created":
        return CommentOutcome(False, f"comment {action}: only new comments run commands")
    if is_bot(author, ctx.forge.bot_login):
        return CommentOutcome(False, "comment by a bot: ignored")
    parsed = slash.parse(body)
    if parsed is None:
        return CommentOutcome(False, "no promobot command in the comment")
    with ctx.forge.transaction():
        for earlier in ctx.forge.list_comments(number):
            if is_bot(earlier.author, ctx.forge.bot_login) and replied_to(earlier.body) == comment_id:
                return CommentOutcome(False, f"comment {comment_id} was already answered")
        return _run(ctx, number=number, comment_id=comment_id, author=author, parsed=parsed)


def _answer(ctx: Context, number: int, comment_id: int, text: str, reaction: str) -> None:
    ctx.forge.react(comment_id, reaction)
    ctx.forge.comment(number, f"{text}\n\n{reply_marker(comment_id)}")


def _run(
    ctx: Context,
    *,
    number: int,
    comment_id: int,
    author: str,
    parsed: list[slash.Command] | slash.Refusal,
) -> CommentOutcome:
    who = inline.code(author)
    if isinstance(parsed, slash.Refusal):
        lines = [f"{who}: {parsed.reason}"]
        if parsed.suggestion:
            lines.append(parsed.suggestion)
        if parsed.usage:
            lines.append(f"Usage: `{parsed.usage}`")
        text = "\n\n".join(lines)
        _answer(ctx, number, comment_id, text, REACT_REFUSED)
        return CommentOutcome(True, "rejected", reply=text)
    pr = ctx.forge.get_pr(number)
    names = [c.name for c in parsed]
    ref = parse_branch(pr.head_branch)
    marker = parse_state(pr.body)
    if ref is None or marker is None:
        text = f"{who}: this is not a promobot pull request, so promobot commands do nothing here."
        _answer(ctx, number, comment_id, text, REACT_REFUSED)
        return CommentOutcome(True, "not a promobot PR", names, text)
    policy = ctx.policy(ctx.tip())
    for command in parsed:
        decision = decide(ctx, command.name, author, policy)
        if not decision.allowed:
            text = f"{who} may not run `/{command.name}` here: {inline.plain(decision.reason)}"
            _answer(ctx, number, comment_id, text, REACT_REFUSED)
            return CommentOutcome(True, "not authorised", names, text)
    # /promote on a merged PR is answered (and finishes the chain a failed run left undone).
    if not all(command_table.runs_on(n, pr.state) for n in names):
        text = (
            f"{who}: this pull request is {pr.state}; "
            "commands other than `/status`, `/help` and `/rollback` do nothing here."
        )
        _answer(ctx, number, comment_id, text, REACT_REFUSED)
        return CommentOutcome(True, "closed", names, text)
    ctx.forge.react(comment_id, REACT_SEEN)
    replies: list[str] = []
    ok = True
    merged = False
    detail: dict[str, Any] = {}
    for command in parsed:
        try:
            text, success, extra = _execute(ctx, command, pr=pr, author=author, policy=policy)
        except NotAuthorized as exc:
            text, success, extra = f"refused: {inline.plain(exc.message)}", False, {}
        except OutageError:
            raise  # no reply: the comment stays unanswered so that re-running the workflow handles it
        except BotError as exc:
            text, success, extra = f"`/{command.name}` failed: {inline.plain(exc.message)}", False, {}
        replies.append(text)
        ok = ok and success
        merged = merged or bool(extra.get("merged"))
        detail.update(extra)
    text = f"{who}: " + "\n\n".join(replies)
    ctx.forge.react(comment_id, REACT_DONE if ok else REACT_REFUSED)
    ctx.forge.comment(number, f"{text}\n\n{reply_marker(comment_id)}")
    return CommentOutcome(True, "ran" if ok else "refused", names, text, merged, detail)


def _execute(
    ctx: Context, command: slash.Command, *, pr: PullRequest, author: str, policy: Policy
) -> tuple[str, bool, dict[str, Any]]:

    number = pr.number

    name = command.name
    if name == "help":
        useful = _useful_here(pr)
        allowed = [c for c in authz.COMMAND_ORDER if c in useful and decide(ctx, c, author, policy).allowed]
        lines = command_table.help_lines(allowed)
        if not lines:
            return "you may not run any promobot command here.", True, {}
        return "commands you may run here:\n\n" + render.bullet_list(lines), True, {}
    if name == "status":
        return _status_text(ctx, number), True, {}
    if name == "retest":
        assessment = evaluate_pr(ctx, number)
        state = (
            "ready to merge"
            if assessment.ready
            else "not ready:\n\n" + render.bullet_list(inline.plain(b) for b in assessment.blockers)
        )
        return f"re-evaluated {len(assessment.results)} gates: {state}", True, {}
    if name == "hold":
        reason = " ".join(command.args).strip()
        ctx.forge.add_labels(number, [LABEL_HOLD])
        evaluate_pr(ctx, number)
        note = f" Reason: {inline.code(reason)}" if reason else ""
        return f"on hold: `/promote` will not merge until `/unhold`.{note}", True, {}
    if name == "unhold":
        ctx.forge.remove_label(number, LABEL_HOLD)
        evaluate_pr(ctx, number)
        return "hold lifted.", True, {}
    if name == "cancel":
        pr = ctx.forge.get_pr(number)
        ctx.forge.close(number)
        ctx.forge.delete_branch(pr.head_branch)
        return f"closed and deleted branch {inline.code(pr.head_branch)}.", True, {}
    if name == "promote":
        result = merge(ctx, number, actor=author, pr=pr)
        if result.merged:
            text = f"merged as {inline.code((result.sha or '')[:12])}."
            for chained in result.chained:
                if chained.pr is not None:
                    # Worded the same whether this run or an earlier one opened it: a re-run
                    # (redelivery, outage, /promote on the merged PR) says the same thing.
                    what = f"promote {inline.code(chained.model)} to {inline.code(chained.to)}"
                    text += f"\n\nNext: #{chained.pr} ({what})."
            return text, True, {"merged": True, "sha": result.sha}
        return blockers_reply(number, result.blockers), False, {"blockers": result.blockers}
    if name == "rollback":
        version = command.args[0] if command.args else None
        rb = rollback_from_pr(ctx, number, to_version=version, actor=author)
        return rb.reply(), True, {"rollback": rb.to_json()}
    raise NotAuthorized(f"unknown command /{name}")


def _useful_here(pr: PullRequest) -> frozenset[str]:
    """The commands that do something on this PR in its current state (what /help offers)."""
    ref = parse_branch(pr.head_branch)
    return frozenset(
        command_table.offered_on(pr.state, promotion=ref is not None and ref.action == "promote")
    )


def _status_text(ctx: Context, number: int) -> str:

    facts = pr_context(ctx, number)
    policy = ctx.policy(facts.base_sha)
    report = status(ctx)
    row = report.models.get(facts.state.model, {})
    lines = [f"{inline.code(env)}: {inline.code(row.get(env) or '—')}" for env in policy.names]
    text = f"{inline.code(facts.state.model)} everywhere:\n\n" + render.bullet_list(lines)
    if facts.pr.state == "open":
        assessment = assess_pr(ctx, facts)
        text += "\n\nThis pull request is " + (
            "ready to merge."
            if assessment.ready
            else "not ready:\n\n" + render.bullet_list(inline.plain(b) for b in assessment.blockers)
        )
    return text

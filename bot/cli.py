"""The command line: click stops here.

Each command reads its options, builds the adapters (this is the only module that
does), calls one use case and prints the result as text, JSON or markdown. Errors
become ``error: <what> — <what to do>`` on stderr with the exit codes of reference §9:
0 done, 1 refused/blocked/invalid, 2 usage, 3 unexpected failure.
"""

from __future__ import annotations

import gc
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

import click

if TYPE_CHECKING:
    from bot.adapters.localforge import LocalForge
    from bot.adapters.version import VersionInfo
    from bot.app.context import Context
    from bot.core.policy_model import Policy

OUTPUTS = ("text", "json", "markdown")


class Options:
    """The global options of one run. Mutable: a global option given after the command name
    writes into it. A plain slotted class, not a dataclass: ``--help`` imports this module, and
    importing ``dataclasses`` costs more than the rest of it (benchmarks/README.md)."""

    __slots__ = ("actor", "clock", "dry_run_forge", "forge", "now", "output", "repo")

    def __init__(
        self,
        repo: Path,
        forge: str | None,
        output: str,
        actor: str | None,
        now: datetime | None,
        dry_run_forge: bool = False,
        clock: datetime | None = None,
    ) -> None:
        self.repo = repo
        self.forge = forge
        self.output = output
        self.actor = actor
        self.now = now
        self.dry_run_forge = dry_run_forge
        # The time fixed by an in-process caller (``cli.main(obj=FixedClock(...))``, tests only):
        # unlike ``--now`` it holds for every command, and no command line can set it.
        self.clock = clock

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"Options({fields})"

    @property
    def time(self) -> datetime | None:
        """The pretended time, if any: ``--now`` (previews only) or the fixed clock."""
        return self.now or self.clock

    @property
    def json(self) -> bool:
        return self.output == "json"


def _fail(message: str, code: int, opts: Options | None) -> NoReturn:
    from bot.core.report import terminal

    if opts is not None and opts.json:
        import json

        click.echo(json.dumps({"error": message, "exit_code": code}))
    click.echo(f"error: {terminal(message)}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from bot.adapters.actions import annotate_error

        click.echo(annotate_error(message), err=True)
    sys.exit(code)


@contextmanager
def errors(opts: Options | None) -> Iterator[None]:
    """Turn promobot's errors into messages and exit codes; anything else is a bug (exit 3)."""
    from bot.errors import Blocked, BotError

    try:
        yield
    except Blocked as exc:
        message = exc.message + "".join(f"\n  - {b}" for b in exc.blockers)
        _fail(message, exc.exit_code, opts)
    except BotError as exc:
        _fail(exc.message, exc.exit_code, opts)
    except KeyboardInterrupt:
        _fail("interrupted", 130, opts)
    except Exception as exc:
        if os.environ.get("PROMOBOT_DEBUG"):
            import traceback

            traceback.print_exc()
        _fail(
            f"unexpected failure: {type(exc).__name__}: {exc} — this is a bug or an outage; "
            "re-run the same command (it is safe), and report it with PROMOBOT_DEBUG=1 output if it persists",
            3,
            opts,
        )


def emit(opts: Options, data: Any, text: Callable[[bool], str]) -> None:
    """Print ``data`` as JSON (faithful), or ``text(markdown)`` for people.

    The one place text output is made safe for a terminal: no escape sequences or control
    characters from comment bodies, logins or manifests (``report.terminal``).
    """
    from bot.core.report import terminal

    if opts.json:
        import json

        click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))
    else:
        markdown = opts.output == "markdown"
        click.echo(terminal(text(markdown), markdown=markdown))


def _configure_logging(verbose: bool) -> None:
    """Warnings (and with ``--verbose`` info) on stderr, one line each. ``logging`` is imported
    here, not at module level, so that ``--help`` does not pay for it."""
    import logging

    class _StderrFormatter(logging.Formatter):
        """``warning: <message>`` on one line: no logger names, no terminal escapes."""

        def format(self, record: logging.LogRecord) -> str:
            from bot.core.report import terminal

            message = " ".join(terminal(record.getMessage()).split("\n"))
            return f"{record.levelname.lower()}: {message}"

    class _Once(logging.Filter):
        """Each distinct message is printed once per run (one evaluation may meet the same problem twice)."""

        def __init__(self) -> None:
            super().__init__()
            self.seen: set[str] = set()

        def filter(self, record: logging.LogRecord) -> bool:
            key = f"{record.levelno}:{record.getMessage()}"
            if key in self.seen:
                return False
            self.seen.add(key)
            return True

    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("promobot")
    handler.setFormatter(_StderrFormatter())
    handler.addFilter(_Once())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "promobot"]:
        root.removeHandler(old)  # a second run in the same process (tests) must not print twice
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)


def _default_forge() -> str:
    if os.environ.get("GITHUB_ACTIONS") == "true":
        return "github"
    if os.environ.get("GITHUB_REPOSITORY") and (
        os.environ.get("GITHUB_TOKEN") or os.environ.get("PROMOBOT_APP_ID")
    ):
        return "github"
    return "local"


def _login_from(name: str | None) -> str | None:
    """git's user.name as a login: "Ada Lovelace" → "ada-lovelace"."""
    if not name:
        return None
    login = re.sub(r"[^A-Za-z0-9._-]+", "-", name.strip()).strip("-.")
    return login or None


class FixedClock(NamedTuple):
    """What time it is, fixed by a caller in the same process: ``CliRunner().invoke(cli, args,
    obj=FixedClock(now))``. Tests use it so that writes are reproducible; the console script
    never passes an ``obj``, so nobody can reach it from a shell, a workflow or a comment."""

    now: datetime


READ_ONLY_COMMANDS = frozenset(
    {"validate", "status", "diff", "history", "site", "pr list", "pr show", "pr users list"}
)
"""Commands that change nothing anywhere (``site`` writes only its --out folder): the hidden
``--now`` may pretend a time for them, and for ``--dry-run`` of the others (reference §9)."""


def _command_name(ctx: click.Context) -> str:
    """``pr users list`` for ``promobot pr users list`` (whatever the program was called)."""
    names: list[str] = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return " ".join(reversed(names))


def _refuse_pretended_time(ctx: click.Context) -> None:
    """``--now`` is for previews only: whatever posts, merges or writes uses the real time.

    Otherwise a pretended time would post gate results (soak, freeze, verification windows)
    onto real pull requests, merge through a freeze window or date a commit — on any forge.
    """
    opts = ctx.find_object(Options)
    if opts is None or opts.now is None:
        return
    name = _command_name(ctx)
    if name in READ_ONLY_COMMANDS or ctx.params.get("dry_run"):
        return
    hint = " (or add --dry-run to preview)" if any(p.name == "dry_run" for p in ctx.command.params) else ""
    _fail(
        f"--now is only for previews: `promobot {name}` posts, merges or writes with the real time — "
        f"drop --now{hint}; `promobot diff` and `promobot status` accept it",
        2,
        opts,
    )


def _guard_time(command: click.Command) -> None:
    """Run ``_refuse_pretended_time`` before ``command``'s callback, once every option is parsed."""
    inner = command.callback
    if inner is None or isinstance(command, click.Group):
        return

    def guarded(*args: Any, **kwargs: Any) -> Any:
        _refuse_pretended_time(click.get_current_context())
        return inner(*args, **kwargs)

    command.callback = guarded


def build_context(opts: Options) -> Context:
    """Build the adapters and the use-case context (the composition root)."""
    from bot.adapters.cache import FileCache
    from bot.adapters.gaterunner import LocalGateRunner
    from bot.adapters.git import GitWorkspace
    from bot.app.context import Context

    forge_kind = opts.forge or _default_forge()
    now = opts.time or datetime.now(UTC)
    if forge_kind == "github":
        return github_context(repo=opts.repo, actor=_check_login(opts.actor) if opts.actor else None, now=now)
    # One git process says where the repository is, where HEAD points and whether main/master
    # exist, and one reads init.defaultBranch with user.name: those facts serve the start-up
    # below only (end_start), so that a warm read spawns as few processes as it can (issue #16).
    ws = GitWorkspace.discover(opts.repo, start=True)
    ws.commit_date = opts.time  # with a fixed clock, the commits promobot writes say when it decided
    from bot.adapters.localforge import LocalForge

    try:
        forge = LocalForge(ws)
        branch = forge.pin_default_branch()
        head = ws.current_branch()
        if head != branch:
            click.echo(
                f"note: HEAD is on {head or 'a detached commit'}, not {branch}; promobot reads and merges "
                f"into the default branch {branch} (recorded in {forge.state_path})",
                err=True,
            )
        login = opts.actor or _login_from(ws.user_name()) or os.environ.get("USER") or "local-user"
    finally:
        ws.end_start()
    actor = _check_login(login)
    return Context(
        forge=forge,
        ws=ws,
        now=now,
        actor=actor,
        gates=LocalGateRunner(ws, environ=dict(os.environ)),
        cache=FileCache.for_repo(ws.git_common_dir()),
        registries=mlflow_connector(dict(os.environ)),
        map=_process_map,
        parse_policy=parse_policy,
    )


def mlflow_connector(environ: Mapping[str, str]) -> Callable[[Any], Any]:
    """Builds the MLflow client of a policy provider: URI and token from ``environ`` (README
    "Keep MLflow in step"). The adapter is imported only when a policy names an mlflow provider."""

    def connect(provider: Any) -> Any:
        from bot.adapters.mlflow import MlflowRegistry
        from bot.core.providers import resolve_token, resolve_tracking_uri

        return MlflowRegistry(
            resolve_tracking_uri(provider, environ), token=resolve_token(provider, environ), timeout=10.0
        )

    return connect


def parse_policy(raw: bytes) -> Policy:
    """``load_policy`` of ``bot.core.policy`` for the Context, imported (with the parsers of
    every section) only when a command parses the policy: a warm ``status`` never does."""
    from bot.core.paths import POLICY_PATH
    from bot.core.policy import load_policy

    return load_policy(raw, path=POLICY_PATH)


def show_pr(ctx: Context, number: int) -> dict[str, Any]:
    """``pulls.show`` for ``promobot site``, imported (with the approval machinery) only when the
    site has an open promobot PR to show: a site run that changes nothing else never does."""
    from bot.app import pulls

    return pulls.show(ctx, number)


def _process_map(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``process_map`` of ``bot.adapters.parallel``, imported (with multiprocessing) only when a
    cold ``status`` has manifests to parse: a warm run never pays for it."""
    from bot.adapters.parallel import process_map

    return process_map(fn, items)


def github_context(
    *,
    repo: Path,
    actor: str | None,
    now: datetime,
    environ: Mapping[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
    default_branch: str | None = None,
    fetch: bool = True,
) -> Context:
    """The use-case context on GitHub: the PyGithub forge and the checkout with origin as remote."""
    import time

    from bot.adapters.github import github_setup
    from bot.app.context import Context

    s = github_setup(
        repo=repo,
        actor=actor,
        environ=environ,
        sleep=sleep or time.sleep,
        default_branch=default_branch,
        fetch=fetch,
    )
    s.ws.commit_date = now  # the commits promobot writes carry the time it decided
    return Context(
        forge=s.forge,
        ws=s.ws,
        now=now,
        actor=s.actor,
        gates=s.gates,
        cache=s.cache,
        bot_identity=s.bot_identity,
        registries=mlflow_connector(dict(os.environ if environ is None else environ)),
        parse_policy=parse_policy,
    )


_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62})(?:\[bot\])?$")


def _check_login(login: str) -> str:
    """A login is a name, never text: no spaces, newlines or punctuation that could forge a trailer."""
    from bot.errors import UsageError

    if not _LOGIN_RE.match(login):
        raise UsageError(
            f"{login[:60]!r} is not a valid login",
            "logins are letters, digits, '-', '_' and '.' (a GitHub login, or user.name without spaces)",
        )
    return login


def _parse_now(_: click.Context, __: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter("use an ISO 8601 time such as 2026-11-27T10:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


pass_opts = click.make_pass_decorator(Options)


# --------------------------------------------------------------------------- global options
# --repo, --forge, --output, --as and the hidden --now mean the same before or after the
# command name (`promobot --output json status` == `promobot status --output json`, as kubectl
# and gh users type it). They are declared once, in GLOBAL_OPTIONS: the group takes them with
# their defaults, and every command (added by anyone, at any depth) gets a copy without a
# default whose callback writes into the same Options object, so a value given after the
# command name wins. See README "CLI".


class GlobalOption(NamedTuple):
    decls: tuple[str, ...]
    field: str
    help: str
    kwargs: Mapping[str, Any]
    convert: Callable[[click.Context, click.Parameter, Any], Any] | None = None

    def for_group(self, default: Any) -> click.Option:
        return click.Option(
            [*self.decls, self.field],
            default=default,
            help=self.help,
            callback=self.convert,
            **self.kwargs,
        )

    def for_command(self) -> click.Option:
        def store(ctx: click.Context, param: click.Parameter, value: Any) -> None:
            if value is None:
                return
            if self.convert is not None:
                value = self.convert(ctx, param, value)
            opts = ctx.find_object(Options)
            if opts is not None:
                setattr(opts, self.field, value)

        return click.Option(
            list(self.decls), default=None, expose_value=False, callback=store, help=self.help, **self.kwargs
        )


GLOBAL_OPTIONS = (
    GlobalOption(
        ("--repo",),
        "repo",
        "The GitOps repository (a git checkout with environments/). Default: the current directory.",
        {"type": click.Path(file_okay=False, path_type=Path)},
    ),
    GlobalOption(
        ("--forge",),
        "forge",
        "Where pull requests live. Default: github inside GitHub Actions or with "
        "GITHUB_REPOSITORY and a token set, else local (kept in .git/).",
        {"type": click.Choice(["local", "github"])},
    ),
    GlobalOption(
        ("--output", "-o"),
        "output",
        "text for people (default), json for scripts (one document on stdout), markdown for job summaries.",
        {"type": click.Choice(OUTPUTS)},
    ),
    GlobalOption(
        ("--as",),
        "actor",
        "Act as LOGIN (local forge; default: git's user.name).",
        {"metavar": "LOGIN"},
    ),
    GlobalOption(
        ("--now",),
        "now",
        "Pretend it is this time (previews only: read-only commands and --dry-run).",
        {"hidden": True},
        convert=_parse_now,
    ),
)
_GLOBAL_DEFAULTS: dict[str, Any] = {
    "repo": Path(),
    "forge": None,
    "output": "text",
    "actor": None,
    "now": None,
}


def global_options(command: click.Command) -> click.Command:
    """Give ``command`` (and, for a group, every command under it) the global options.

    Idempotent; an option a command already declares itself is left alone.
    """
    if getattr(command, "_promobot_globals", False):
        return command
    declared = {name for p in command.params for name in getattr(p, "opts", ())}
    command.params.extend(g.for_command() for g in GLOBAL_OPTIONS if not declared.intersection(g.decls))
    _guard_time(command)
    command._promobot_globals = True  # type: ignore[attr-defined]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            global_options(sub)
    return command


class PromobotGroup(click.Group):
    """The top-level group: every command it resolves accepts the global options too."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        return global_options(command) if command is not None else None


def _version() -> VersionInfo:
    """The version from pyproject.toml, plus the commit when promobot runs from its own checkout."""
    from bot.adapters.version import describe

    return describe()


def as_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--as LOGIN`` on a command that acts as someone: the global --as, declared where it matters."""
    return _append_param(f, GLOBAL_OPTIONS[3].for_command())


def _with_group_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for g in reversed(GLOBAL_OPTIONS):
        f = _append_param(f, g.for_group(_GLOBAL_DEFAULTS[g.field]))
    return f


def _append_param(f: Callable[..., Any], param: click.Parameter) -> Callable[..., Any]:
    params: list[click.Parameter] = f.__dict__.setdefault("__click_params__", [])
    params.append(param)
    return f


_SURROGATE_RE = re.compile(r"[\udc80-\udcff]")


class _Group(PromobotGroup):
    """The top-level group: refuses arguments that are not UTF-8 before anything runs.

    Python hands such bytes over as lone surrogates (``\\udcff``), which no file, JSON
    document or forge can store: a comment body like that is invalid input (exit 1), never
    a crash halfway through writing it.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for i, arg in enumerate(args, start=1):
            bad = _SURROGATE_RE.search(arg)
            if bad is not None:
                byte = ord(bad.group()) - 0xDC00
                raise click.ClickException(
                    f"argument {i} is not valid UTF-8 (byte 0x{byte:02x} at position {bad.start()}) — "
                    "pass text encoded as UTF-8"
                )
        return super().parse_args(ctx, args)


@click.group(
    cls=_Group,
    invoke_without_command=True,  # so that `promobot --version --output json` reaches the callback
    no_args_is_help=True,
    subcommand_metavar="COMMAND [ARGS]...",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110, "terminal_width": 110},
)
@_with_group_options
@click.option("-v", "--verbose", is_flag=True, help="Log what promobot does to stderr.")
@click.option(
    "--version",
    is_flag=True,
    help="Show the version (and the commit when run from a checkout) and exit; JSON with --output json.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    repo: Path,
    forge: str | None,
    output: str,
    actor: str | None,
    now: datetime | None,
    verbose: bool,
    version: bool,
) -> None:
    """promobot: promote ML models through environments with gated, reviewed pull requests.

    \b
    Start a GitOps repository, then tour it:
      promobot init --example ../promobot-demo      a new repository with the example models
      cd ../promobot-demo
      promobot status                               what runs where, drift, open PRs
      promobot diff fraud-detector --to staging     preview a promotion; changes nothing
      promobot promote fraud-detector --to staging  open the promotion PR and post its gates
      promobot pr show 1                            the PR, its checks and approvals
      promobot pr review 1 --approve --as carol     review it (local forge)
      promobot pr comment 1 /promote --as alice     slash-commands work locally too
      promobot rollback fraud-detector --env prod   undo a bad release with a revert commit

    Global options (--repo, --forge, --output, --as) work before or after the command name.
    Exit codes: 0 done, 1 refused/blocked/invalid input, 2 usage error, 3 unexpected failure.
    """
    _configure_logging(verbose)
    clock = ctx.obj.now if isinstance(ctx.obj, FixedClock) else None
    ctx.obj = Options(repo=repo, forge=forge, output=output, actor=actor, now=now, clock=clock)
    if version:
        if ctx.obj.json:
            import json

            click.echo(json.dumps(_version().to_json()))
        else:
            click.echo(_version().text())
        ctx.exit(0)
    if ctx.invoked_subcommand is None:
        raise click.UsageError("Missing command.", ctx)


@cli.command()
@click.argument(
    "directory", metavar="[DIR]", required=False, type=click.Path(file_okay=False, path_type=Path)
)
@click.option(
    "--example", is_flag=True, help="Add the example models, policy and artifacts of the README tour."
)
@click.option(
    "--workflow/--no-workflow",
    default=True,
    show_default=True,
    help="Write .github/workflows/promotion.yml (promobot's action pinned by commit SHA).",
)
@pass_opts
def init(opts: Options, directory: Path | None, example: bool, workflow: bool) -> None:
    """Make DIR (default: --repo, or here) a GitOps repository for promobot, in one commit.

    git init when needed; environments/ with a commented promotion.yaml and an empty
    rejected.yaml; JSON Schemas for editors; the GitHub workflow; a pre-commit hook running
    `promobot validate`. Never overwrites: if any of these files exists, nothing is written.
    """
    from importlib import metadata

    from bot.adapters.git import GitFolder
    from bot.app import init as scaffold
    from bot.core import report

    with errors(opts):
        try:  # how pip installed promobot (PEP 610): names the commit when it came from GitHub
            direct_url = metadata.distribution("promobot").read_text("direct_url.json")
        except metadata.PackageNotFoundError:
            direct_url = None
        result = scaffold.init(
            GitFolder(directory or opts.repo, commit_date=opts.clock),
            example=example,
            workflow=workflow,
            pin=scaffold.pin_from_direct_url(direct_url),
            version=_version().version,
        )
    emit(
        opts,
        result.to_json(),
        lambda md: report.init(
            result.to_json(), placeholder=scaffold.PLACEHOLDER_REPOSITORY, workflow=scaffold.WORKFLOW
        ),
    )


@cli.command()
@click.option("--ref", default=None, help="Validate the files committed at REF instead of the working tree.")
@pass_opts
def validate(opts: Options, ref: str | None) -> None:
    """Check the policy, rejected.yaml and every manifest; exit 1 on any error.

    Reads the working tree by default, so it works as a pre-commit hook.
    """
    from bot.adapters.git import GitWorkspace
    from bot.app import validate as use_case
    from bot.core import report
    from bot.core.paths import ENV_DIR

    with errors(opts):
        ws = GitWorkspace.discover(opts.repo)
        files = ws.read_tree_files(ENV_DIR, ref=ref)
        result = use_case.validate(files)
    data = result.to_json()
    emit(opts, data, lambda md: report.validation(data))
    if not result.ok:
        sys.exit(1)


@cli.command()
@pass_opts
def status(opts: Options) -> None:
    """Show the version of every model in every environment, drift and open PRs."""
    from bot.app import status as use_case
    from bot.core import report

    with errors(opts):
        data = use_case.status(build_context(opts)).to_json()
    emit(opts, data, lambda md: report.status(data, markdown=md))


@cli.command()
@click.argument("model")
@click.option("--to", "to", required=True, metavar="ENV", help="The environment to promote into.")
@pass_opts
def diff(opts: Options, model: str, to: str) -> None:
    """Preview a promotion: manifest diff, metric deltas and gate results. Changes nothing."""
    from bot.app import diff as preview
    from bot.core import report

    with errors(opts):
        data = preview.diff(build_context(opts), model=model, to=to)
    emit(opts, data, lambda md: report.diff(data, markdown=md))


@cli.command()
@click.argument("model", required=False)
@click.option("--to", "to", required=True, metavar="ENV", help="The environment to promote into.")
@click.option(
    "--from", "from_", default=None, metavar="ENV", help="Must match the policy's `from` (a check)."
)
@click.option("--all", "all_", is_flag=True, help="Every model whose source differs from ENV.")
@click.option("--dry-run", is_flag=True, help="Print the plan and the gate results; change nothing.")
@as_option
@pass_opts
def promote(opts: Options, model: str | None, to: str, from_: str | None, all_: bool, dry_run: bool) -> None:
    """Open or update the promotion PR for MODEL into ENV, evaluate its gates, post its checks."""
    from bot.app import promote as promoting
    from bot.core import report

    if bool(model) == all_:
        raise click.UsageError("give either MODEL or --all")
    with errors(opts):
        ctx = build_context(opts)
        _note_uncommitted(ctx, model, to)
        failed: dict[str, str] = {}
        if all_:
            results, failed = promoting.promote_all(ctx, to=to, dry_run=dry_run)
            data: Any = [r.to_json() for r in results] + [
                {"model": m, "to": to, "error": e} for m, e in sorted(failed.items())
            ]
        else:
            assert model is not None
            data = promoting.promote(ctx, model=model, to=to, from_=from_, dry_run=dry_run).to_json()
    if all_:
        emit(
            opts,
            data,
            lambda md: (
                "\n\n".join(
                    report.promote(d, markdown=md)
                    if "error" not in d
                    else f"{d['model']}: error: {d['error']}"
                    for d in data
                )
                or "Nothing to promote."
            ),
        )
        if failed:
            click.echo(f"error: {len(failed)} model(s) could not be promoted — see above", err=True)
            sys.exit(1)
    else:
        emit(opts, data, lambda md: report.promote(data, markdown=md))


def _note_uncommitted(ctx: Context, model: str | None, to: str) -> None:
    """One line on stderr when the source manifest(s) have uncommitted edits: promote reads commits."""
    from bot.adapters.git import GitWorkspace
    from bot.errors import BotError

    ws = ctx.ws
    if not isinstance(ws, GitWorkspace) or ws.remote is not None or ws.is_bare:
        return
    try:
        env = ctx.policy(ctx.tip()).env(to)
        if env is None or not env.from_:
            return
        where = f"environments/{env.from_}/{model}.yaml" if model else f"environments/{env.from_}/"
        dirty = ws.uncommitted(where)
    except BotError:
        return  # promote itself reports what is wrong with the model, the policy or the branch
    for path in dirty:
        click.echo(
            f"note: {path} has uncommitted changes; promote uses the version committed on "
            f"{ctx.default_branch} — commit them first to promote them",
            err=True,
        )


@cli.command()
@click.argument("model", required=False)
@click.option("--env", "env", default=None, metavar="ENV", help="Only this environment (with verify:).")
@as_option
@pass_opts
def verify(opts: Options, model: str | None, env: str | None) -> None:
    """Evaluate every open post-deploy verification now (README: Verify with live data)."""
    from bot.app import verify as verifying

    with errors(opts):
        found = verifying.run(build_context(opts), model=model, env=env)
    data = {"verifications": [verifying.to_json(v) for v in found]}
    icons = {"success": "✓", "failure": "✗", "pending": "⏳", "inactive": "·"}

    def text(_: bool) -> str:
        if not found:
            return "No verifications: no environment with verify: has a promoted or rolled-back version."
        return "\n".join(
            f"{icons[v.state]} {v.model} {v.version} in {v.env} ({v.commit[:12]}): {v.state} — {v.reason}"
            for v in found
        )

    emit(opts, data, text)


@cli.command()
@click.argument("number", type=int, metavar="PR")
@as_option
@pass_opts
def gates(opts: Options, number: int) -> None:
    """Re-evaluate the gates and approvals of pull request PR and update its checks."""
    from bot.app.authority import require
    from bot.app.evaluate import evaluate_pr
    from bot.core import report

    with errors(opts):
        ctx = build_context(opts)
        require(ctx, "retest", ctx.actor, ctx.policy(ctx.tip()))  # like /retest
        a = evaluate_pr(ctx, number)
    gate_rows = [{"name": r.name, "kind": r.kind, "result": r.result, "reason": r.reason} for r in a.results]
    data = {
        "pr": number,
        "ready": a.ready,
        "blockers": a.blockers,
        "gates": gate_rows,
        "approvals": {"required": a.verdict.required, "counted": list(a.verdict.counted)},
    }
    emit(
        opts,
        data,
        lambda md: (
            report.gates(gate_rows, markdown=md)
            + (
                "\n\nReady to merge."
                if a.ready
                else "\n\nBlocked:\n" + "\n".join(f"  - {b}" for b in a.blockers)
            )
        ),
    )


@cli.command()
@click.argument("number", type=int, metavar="PR")
@as_option
@pass_opts
def merge(opts: Options, number: int) -> None:
    """Merge pull request PR if it is ready; otherwise exit 1 listing every blocker."""
    from bot.app import promote as promoting
    from bot.core import report

    with errors(opts):
        ctx = build_context(opts)
        result = promoting.merge(ctx, number, actor=ctx.actor)
    data = result.to_json()
    emit(opts, data, lambda md: report.merge(data))
    if not result.merged:
        sys.exit(1)


@cli.command()
@click.argument("model")
@click.option("--env", "env", required=True, metavar="ENV", help="The environment to roll back.")
@click.option(
    "--to",
    "to_version",
    default=None,
    metavar="VERSION",
    help="Restore this version (it must have run in ENV).",
)
@click.option(
    "--direct", is_flag=True, help="Commit straight to the default branch (policy rollback.direct)."
)
@click.option("--reason", default=None, help="Why (recorded in rejected.yaml and the PR).")
@click.option("--dry-run", is_flag=True, help="Show what would be restored; change nothing.")
@as_option
@pass_opts
def rollback(
    opts: Options,
    model: str,
    env: str,
    to_version: str | None,
    direct: bool,
    reason: str | None,
    dry_run: bool,
) -> None:
    """Roll MODEL in ENV back to the version before (or VERSION) with a revert commit."""
    from bot.app import rollback as rollback_uc
    from bot.core import report

    with errors(opts):
        ctx = build_context(opts)
        result = rollback_uc.rollback(
            ctx,
            model=model,
            env=env,
            to_version=to_version,
            direct=direct,
            reason=reason,
            actor=ctx.actor,
            dry_run=dry_run,
            authorize=True,  # like /rollback (README: who may do what)
        )
    data = result.to_json()
    emit(opts, data, lambda md: report.rollback(data, reverts_subject=result.reverts_subject))


@cli.command()
@click.argument("model")
@click.option("--env", "env", default=None, metavar="ENV", help="Only this environment.")
@click.option(
    "--limit",
    default=50,
    show_default=True,
    type=click.IntRange(min=1),
    help="At most this many entries in text output.",
)
@pass_opts
def history(opts: Options, model: str, env: str | None, limit: int) -> None:
    """Promotions, rollbacks and hand edits of MODEL, newest first (from git log)."""
    from bot.app import history as use_case
    from bot.core import report

    with errors(opts):
        ctx = build_context(opts)
        data = use_case.history_rows(ctx, model, env, limit=None if opts.json else limit)
    emit(opts, data, lambda md: report.history(data[:limit], markdown=md))


@cli.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="The folder to write (created; replaced when promobot site wrote it before).",
)
@click.option(
    "--web-url",
    default=None,
    metavar="URL",
    help="Link marks to this repository's pages (https://github.com/OWNER/NAME). "
    "Default on GitHub: $GITHUB_SERVER_URL/$GITHUB_REPOSITORY.",
)
@pass_opts
def site(opts: Options, out: Path, web_url: str | None) -> None:
    """Write a static dashboard: index.html (every model × environment) and one page per model."""
    from bot.app import site as use_case

    with errors(opts):
        ctx = build_context(opts)
        if web_url is None and (opts.forge or _default_forge()) == "github":
            repo = os.environ.get("GITHUB_REPOSITORY", "")
            web_url = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com').rstrip('/')}/{repo}"
        data = use_case.site(ctx, out=out, web_url=web_url, show_pr=show_pr).to_json()
    emit(
        opts,
        data,
        lambda md: (
            f"Wrote {data['pages']} pages ({data['models']} models) "
            f"of commit {data['commit'][:12]} to {data['out']}"
        ),
    )


@cli.command()
@click.argument("model")
@click.argument("version")
@click.option("--reason", required=True, help="Why this version must never be promoted again.")
@click.option("--direct", is_flag=True, help="Commit straight to the default branch instead of opening a PR.")
@as_option
@pass_opts
def reject(opts: Options, model: str, version: str, reason: str, direct: bool) -> None:
    """Add MODEL VERSION to environments/rejected.yaml (through a PR by default)."""
    from bot.app import reject as reject_uc

    with errors(opts):
        ctx = build_context(opts)
        result = reject_uc.reject(
            ctx, model=model, version=version, reason=reason, actor=ctx.actor, direct=direct
        )
    emit(opts, result, lambda md: result["message"])


@cli.command()
@click.argument("model")
@click.argument("version")
@click.option("--direct", is_flag=True, help="Commit straight to the default branch instead of opening a PR.")
@as_option
@pass_opts
def unreject(opts: Options, model: str, version: str, direct: bool) -> None:
    """Remove MODEL VERSION from environments/rejected.yaml (through a PR by default)."""
    from bot.app import reject as reject_uc

    with errors(opts):
        ctx = build_context(opts)
        result = reject_uc.unreject(ctx, model=model, version=version, actor=ctx.actor, direct=direct)
    emit(opts, result, lambda md: result["message"])


@cli.command()
@click.option("--env", "env", default=None, metavar="ENV", help="Only this environment's aliases.")
@click.option("--dry-run", is_flag=True, help="Show which aliases would move; change nothing.")
@pass_opts
def sync(opts: Options, env: str | None, dry_run: bool) -> None:
    """Move the MLflow aliases to the versions git says each environment runs."""
    from bot.app import sync as sync_uc
    from bot.core import report

    with errors(opts):
        result = sync_uc.sync(build_context(opts), env=env, dry_run=dry_run)
    emit(opts, result.to_json(), lambda md: report.sync(result.to_json(), configured=result.configured))


@cli.command("handle-event")
@click.option("--name", default=None, help="Event name (default: $GITHUB_EVENT_NAME).")
@click.option(
    "--payload",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Event payload JSON file (default: $GITHUB_EVENT_PATH).",
)
@pass_opts
def handle_event(opts: Options, name: str | None, payload: Path | None) -> None:
    """Handle the GitHub event that started this workflow run (GitHub Actions entry point)."""
    from bot.adapters import actions

    with errors(opts):
        event = actions.load_event(name=name, payload=payload, environ=os.environ)
        ctx = build_context(opts) if event.needs_context else None
        from bot.app import events
        from bot.app.batch import HandlerFailures
        from bot.errors import BotError

        try:
            outcome = events.dispatch(event, ctx)
        except HandlerFailures as exc:  # the items that worked still go in the summary
            actions.write_summary(exc.outcome.summary, environ=os.environ)
            raise
        except BotError as exc:
            actions.write_summary(f"**promobot:** {exc.message}", environ=os.environ)
            raise
        actions.write_summary(outcome.summary, environ=os.environ)
    emit(opts, outcome.to_json(), lambda md: outcome.summary)


# --------------------------------------------------------------------------- pr
# `pr review` and `pr comment` record the review or comment as --as LOGIN on the local
# forge, then run exactly the event handling the GitHub workflow runs for
# pull_request_review and issue_comment.


def _local(ctx: Context) -> LocalForge:
    from bot.adapters.localforge import LocalForge
    from bot.errors import UsageError

    if not isinstance(ctx.forge, LocalForge):
        raise UsageError(
            "this command acts on the local forge only",
            "on GitHub, review and comment in the pull request itself",
        )
    return ctx.forge


@click.group()
def pr() -> None:
    """Pull requests: list, show, review, comment (local forge), and users."""


@pr.command("list")
@click.option(
    "--state", type=click.Choice(["open", "closed", "merged", "all"]), default="open", show_default=True
)
@pass_opts
def list_(opts: Options, state: str) -> None:
    """List promobot's pull requests."""
    from bot.app import pulls
    from bot.core import report

    with errors(opts):
        data = pulls.list_prs(build_context(opts), state=None if state == "all" else state)  # type: ignore[arg-type]
    rows = [
        [
            f"#{p['number']}",
            p["state"],
            p["action"] or "-",
            p["model"] or "-",
            f"{p['from'] or '-'} → {p['to'] or '-'}",
            p["version"] or "-",
            p["title"],
        ]
        for p in data
    ]
    emit(
        opts,
        data,
        lambda md: (
            report.table(["pr", "state", "action", "model", "route", "version", "title"], rows, markdown=md)
            if rows
            else "No pull requests."
        ),
    )


@pr.command("show")
@click.argument("number", type=int, metavar="PR")
@pass_opts
def show(opts: Options, number: int) -> None:
    """Show pull request PR: state, checks, approvals, comments."""
    from bot.app import pulls
    from bot.core import report

    with errors(opts):
        data = pulls.show(build_context(opts), number)
    emit(opts, data, lambda md: report.pr_show(data))


@pr.command("review")
@click.argument("number", type=int, metavar="PR")
@click.option("--approve", is_flag=True, help="Approve the current head.")
@click.option("--request-changes", is_flag=True, help="Request changes.")
@click.option("--comment", "comment_", is_flag=True, help="Comment without a verdict.")
@click.option("--body", default="", help="Review text.")
@as_option
@pass_opts
def review(
    opts: Options, number: int, approve: bool, request_changes: bool, comment_: bool, body: str
) -> None:
    """Review pull request PR as --as LOGIN, then re-evaluate approvals (like the review event)."""
    from bot.app import events

    chosen = [
        s
        for s, on in (("APPROVED", approve), ("CHANGES_REQUESTED", request_changes), ("COMMENTED", comment_))
        if on
    ]
    if len(chosen) != 1:  # two verdicts at once is a contradiction, not "the last one wins"
        raise click.UsageError("choose exactly one of --approve, --request-changes, --comment")
    state = chosen[0]
    with errors(opts):
        ctx = build_context(opts)
        forge = _local(ctx)
        submitted = forge.submit_review(number, login=ctx.actor, state=state, body=body)  # type: ignore[arg-type]
        outcome = events.on_review(ctx, number)
    data: dict[str, Any] = {"review": submitted.id, "state": state, "login": ctx.actor, **outcome.to_json()}
    emit(
        opts, data, lambda md: f"{ctx.actor} {state.lower().replace('_', ' ')} #{number}.\n{outcome.summary}"
    )


@pr.command("comment")
@click.argument("number", type=int, metavar="PR")
@click.argument("body")
@as_option
@pass_opts
def comment(opts: Options, number: int, body: str) -> None:
    """Comment BODY on pull request PR as --as LOGIN; slash-commands in it run."""
    from bot.app.comment import handle_comment

    with errors(opts):
        ctx = build_context(opts)
        forge = _local(ctx)
        made = forge.add_comment(number, login=ctx.actor, body=body)
        outcome = handle_comment(ctx, number=number, comment_id=made.id, author=ctx.actor, body=body)
    data = {"comment": made.id, **outcome.to_json()}
    emit(opts, data, lambda md: outcome.reply or f"comment #{made.id} added ({outcome.reason}).")


@pr.group("users")
def users() -> None:
    """Collaborators and teams of the local forge (for permission checks)."""


@users.command("set")
@click.argument("login")
@click.option(
    "--permission", type=click.Choice(["none", "read", "triage", "write", "maintain", "admin"]), required=True
)
@click.option(
    "--team", "teams", multiple=True, metavar="@ORG/TEAM", help="Add LOGIN to this team (repeatable)."
)
@pass_opts
def users_set(opts: Options, login: str, permission: str, teams: tuple[str, ...]) -> None:
    """Set LOGIN's repository permission (and teams) on the local forge."""
    from bot.core.model import Permission

    with errors(opts):
        forge = _local(build_context(opts))
        forge.set_user(login, Permission.parse(permission), teams)
    data = {"login": login, "permission": permission, "teams": list(teams)}
    emit(opts, data, lambda md: f"{login}: {permission}" + (f", teams {', '.join(teams)}" if teams else ""))


@users.command("list")
@pass_opts
def users_list(opts: Options) -> None:
    """List the local forge's users and teams."""
    from bot.core import report

    with errors(opts):
        forge = _local(build_context(opts))
        users, teams = forge.users(), forge.teams()
    rows = [
        [login, perm.label, ", ".join(sorted(t for t, m in teams.items() if login in m))]
        for login, perm in sorted(users.items())
    ]
    default = "write for everyone" if not users else "none for anyone not listed"
    data = {
        "users": [
            {"login": r[0], "permission": r[1], "teams": r[2].split(", ") if r[2] else []} for r in rows
        ],
        "default": default,
    }
    emit(
        opts,
        data,
        lambda md: (
            (report.table(["login", "permission", "teams"], rows, markdown=md) if rows else "No users set.")
            + f"\n(anyone else: {default})"
        ),
    )


cli.add_command(pr)


def main() -> None:
    """The console script: click's own errors also follow the `error: <what> — <what to do>` contract."""
    # Everything imported so far (click, the commands, the core) lives as long as the process:
    # frozen, it is skipped by every later garbage collection (a warm status spent ~8 ms, 6 %
    # of its instructions, collecting start-up objects; benchmarks/README.md, issue #16).
    gc.freeze()
    try:
        code = cli.main(prog_name="promobot", standalone_mode=False)
    except click.UsageError as exc:
        if exc.ctx is not None and exc.message == exc.ctx.get_help():  # bare `promobot`: help is the answer
            click.echo(exc.message, err=True)
            sys.exit(2)
        if exc.ctx is not None:
            click.echo(exc.ctx.get_usage(), err=True)
        command = exc.ctx.command_path if exc.ctx is not None else "promobot"
        _fail(f"{exc.format_message().rstrip('.')} — see `{command} --help`", 2, _argv_options())
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code, _argv_options())
    except click.Abort:
        _fail("aborted", 1, _argv_options())
    sys.exit(code if isinstance(code, int) else 0)


def _argv_options() -> Options | None:
    """Enough of the options to know whether errors must be JSON, when click could not parse them."""
    args = sys.argv[1:]
    wants_json = any(
        a in ("-ojson", "--output=json") or (a in ("-o", "--output") and args[i + 1 : i + 2] == ["json"])
        for i, a in enumerate(args)
    )
    return Options(repo=Path(), forge=None, output="json" if wants_json else "text", actor=None, now=None)

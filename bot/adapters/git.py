"""The git adapter: reads and writes the GitOps repository for the ``Workspace`` port.

Every git call goes through one seam, ``GitWorkspace._run``, which spawns ``git`` with an
argv list (never a shell string) and counts the processes it starts
(``GitWorkspace.git_calls``) so that tests can hold the O(1)-processes promises below.

Why ``subprocess`` and not GitPython: importing GitPython alone costs about 70 ms, most
of the time budget of ``promobot history`` (benchmarks/README.md), and every operation here
needs control over the process environment (a temporary ``GIT_INDEX_FILE``, the
``GIT_CONFIG_*`` authentication header, committer identity) that GitPython only
passes through anyway. Failures become ``WorkspaceError`` (or ``ConflictError`` /
``OutageError``) carrying git's stderr and a hint.

Choices a user can observe (the reference leaves them open):

- **Default branch.** The ``default_branch=`` constructor argument (or
  ``pin_default_branch``) wins. Otherwise, in local mode, ``init.defaultBranch`` when that
  branch exists, else ``main`` or ``master``, whichever exists, and only then the branch
  HEAD points to (unless it is a ``promobot/…`` branch). What is checked out never decides
  when one of those exists: the local forge records the choice in its state on first
  use and promobot builds and merges against it whatever HEAD is. In remote mode,
  ``refs/remotes/<remote>/HEAD``, then ``main``/``master`` among the remote-tracking
  branches, then the remote's own HEAD (``git ls-remote --symref``).
- **Remote mode** (``remote="origin"``): branch names are read from the remote-tracking
  refs (``refs/remotes/origin/<b>``) first, so a stale local branch never wins;
  ``refresh()`` fetches them all once. Writes are pushes with ``--force-with-lease``.
  The token travels only as an ``http.extraHeader`` passed in ``GIT_CONFIG_COUNT`` /
  ``GIT_CONFIG_KEY_n`` / ``GIT_CONFIG_VALUE_n`` environment variables of the git
  process: never in argv, never in ``.git/config``.
- **Commits** are built without touching the working tree or the real index (a
  temporary index file). The committer is the repository's configured identity, or
  ``promobot <promobot@localhost>`` where none is configured (fresh CI machines).
  New files get mode 100644.
- **Moving a checked-out branch** (local mode): the working tree follows the way
  ``git checkout``/``git merge --ff-only`` would (``git read-tree -m -u old new``),
  carrying uncommitted changes along when they touch other files. When they touch the
  same files, the branch still moves (the merge happened): the index and the files
  nobody edited follow the new commit, the edited files stay exactly as they were (and
  are saved as a commit under ``refs/promobot/saved/``), nothing is left staged that
  nobody made, and one line (logged, and appended to ``GitWorkspace.warnings``) says how
  to re-apply the edits on top of the merge.
  Other worktrees that have the branch checked out are not updated.
- **History** is one ``git log --topo-order -p`` process (newest first in graph order,
  never by commit date) — or, for several manifests in a repository whose commit-graph has
  changed-path Bloom filters, one ``git log -p`` per manifest side by side, merged in the
  order of one ``git rev-list --topo-order`` (git uses the filters only for a single path);
  versions come from the manifest's own
  ``version:`` lines in the diff, trailers add the action, PR, approvers and rollback
  target. Commits without promobot trailers are ``manual``; commits that changed a
  manifest without changing its version are listed with ``version ==
  previous_version``. The read-only ``history`` command may keep the parsed log in
  ``.git/promobot/history/`` (README: caches); decisions always read git.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import threading
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain, repeat
from pathlib import Path
from typing import Any, BinaryIO, Literal, NamedTuple, cast

from bot.adapters.cache import read_json, write_json
from bot.core.branches import BRANCH_PREFIX
from bot.core.model import HistoryEntry, is_valid_name
from bot.core.trailers import (
    ACTION,
    APPROVED_BY,
    FROM,
    MODEL,
    PR,
    PREVIOUS_VERSION,
    ROLLBACK_OF,
    TO,
    VERIFICATION,
    VERSION,
    collect_trailers,
)
from bot.errors import ConflictError, ManifestError, OutageError, UsageError, WorkspaceError

logger = logging.getLogger(__name__)

FALLBACK_NAME = "promobot"
FALLBACK_EMAIL = "promobot@localhost"
NOT_A_REPO_HINT = "run promobot inside the GitOps repository or pass --repo"
SHALLOW_HINT = "check out with fetch-depth: 0 (actions/checkout) or run git fetch --unshallow"

_SHA_RE = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_BRANCH_RE = re.compile(r"^(?![-./])(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/@+-]+(?<![./])(?<!\.lock)$")
_REMOTE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_AUTHOR_RE = re.compile(r"^\s*([^<>]+?)\s*<([^<>]*)>\s*$")
_MANIFEST_RE = re.compile(r"^environments/([^/]+)/([^/]+)\.yaml$")
_PR_SUFFIX_RE = re.compile(r"\(#(\d+)\)\s*$")
_COMMENT_RE = re.compile(r"[ \t]#")
"""Where a plain YAML scalar's comment starts."""
_DIFF_VERSION_RE = re.compile(r"^([-+])version:(?:[ \t]+(.*))?$", re.MULTILINE)
_REPO_FACTS = ["rev-parse", "--path-format=absolute", "--git-common-dir", "--is-bare-repository"]
"""What a workspace asks git about its repository once (``GitWorkspace.git_dir``, ``is_bare``)."""
_USUAL_DEFAULTS = ("main", "master")
"""The branches the local default-branch choice looks for when ``init.defaultBranch`` names none."""
# The start-up facts of a local command, asked in the discovery's own rev-parse: which of main and
# master exist (a glob matching exactly that ref: a missing one prints nothing, never fails), the
# full name HEAD points to ("HEAD" when detached), then that name shortened as
# ``git symbolic-ref --short`` shortens it (``--abbrev-ref=loose`` is the same rule).
_START_FACTS = [
    "--symbolic-full-name",
    *(f"--glob=refs/heads/{b[:-1]}[{b[-1]}]" for b in _USUAL_DEFAULTS),
    "HEAD",
    "--abbrev-ref=loose",
    "HEAD",
]
_START_CONFIG = ("init.defaultbranch", "user.name")
"""The configuration a local command reads at start-up (git prints keys in lower case)."""


class _StartFacts:
    """What one command's start-up asked git once (``GitWorkspace.discover(start=True)``):
    answers ``current_branch``, which of main/master exist and the start-up configuration
    until ``GitWorkspace.end_start`` (a later call asks git again: the repository may change)."""

    __slots__ = ("config", "head", "present")

    def __init__(self, head: str | None, present: frozenset[str]) -> None:
        self.head, self.present = head, present
        self.config: dict[str, str] | None = None


# NUL-separated fields; git itself finds the trailers (its own rules), unfolded, one per \x01.
_LOG_FORMAT = "%x00%H%x00%ct%x00%an%x00%s%x00%(trailers:only=true,unfold=true,separator=%x01)%x00"
# Variables that would point git at another repository or index than ours.
_REPO_LOCATING_ENV = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
        "GIT_PREFIX",
    }
)
_OUTAGE_MARKERS = (
    "could not resolve host",
    "connection refused",
    "connection timed out",
    "operation timed out",
    "the remote end hung up unexpectedly",
    "returned error: 5",
    "failed to connect",
)
_AUTH_MARKERS = ("authentication failed", "could not read username", "returned error: 403", "permission")


class _Result(NamedTuple):  # NamedTuples here: a frozen dataclass costs ~10× more to define at import
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPO_LOCATING_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["LC_ALL"] = "C"
    return env


def _spawn(
    args: Sequence[str], *, cwd: Path, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> _Result:
    full_env = _base_env()
    if env:
        full_env.update(env)
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, env=full_env, check=False
        )
    except FileNotFoundError as exc:
        raise WorkspaceError("git is not installed", "install git and make sure it is on PATH") from exc
    return _Result(proc.returncode, proc.stdout, proc.stderr)


def _finish(proc: subprocess.Popen[bytes]) -> None:
    """End an idle ``git cat-file --batch``: the end of its input ends it."""
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    proc.wait()


_PENDING: weakref.WeakSet[GitWorkspace] = weakref.WeakSet()
"""Workspaces holding a ``cat-file`` that ``resolve`` left open for the next read."""


def _end_idle(proc: subprocess.Popen[bytes]) -> None:
    """When a workspace goes away (or the interpreter exits) with a ``cat-file`` still open."""
    if proc.returncode is None:
        _finish(proc)


def _forget_pending_in_child() -> None:
    """A forked child must not hold the pipes of its parent's open ``cat-file`` (git would never
    see the end of its input): it closes its copies and leaves the process to the parent."""
    for ws in list(_PENDING):
        proc, ws._pending = ws._pending, None
        ws._pending_lock = threading.Lock()  # a thread of the parent may have held it
        if ws._pending_end is not None:
            ws._pending_end.detach()
            ws._pending_end = None
        if proc is not None:
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            proc.returncode = 0  # the parent's process: never waited on here
    _PENDING.clear()


os.register_at_fork(after_in_child=_forget_pending_in_child)


def _error_for(args: Sequence[str], result: _Result) -> WorkspaceError | OutageError:
    err = result.err or f"exit status {result.returncode}"
    detail = err.splitlines()[-1] if err else ""
    command = next((a for a in args if not a.startswith("-") and "=" not in a), "")
    what = f"git {command} failed: {detail}"
    low = err.lower()
    if any(m in low for m in _OUTAGE_MARKERS):
        return OutageError(what, "the git remote could not be reached; re-run the same event")
    if any(m in low for m in _AUTH_MARKERS) and command in {"push", "fetch", "ls-remote"}:
        return WorkspaceError(
            what, "check that the token may write contents to this repository (permissions: contents: write)"
        )
    if "not a git repository" in low:
        return WorkspaceError(what, NOT_A_REPO_HINT)
    return WorkspaceError(what, "check the repository with `git status` and `git fsck`, then re-run")


def _check_ref(ref: str) -> None:
    if not ref or ref.startswith("-") or any(c.isspace() or ord(c) < 32 or c == "\x7f" for c in ref):
        raise UsageError(f"{ref!r} is not a valid git revision", "name a branch, tag or commit SHA")


def _check_branch(branch: str) -> None:
    if _BRANCH_RE.fullmatch(branch) is None or branch == "HEAD":
        raise UsageError(
            f"{branch!r} is not a valid branch name", "use letters, digits, '.', '_', '-' and '/'"
        )


def _check_sha(sha: str) -> None:
    if _SHA_RE.fullmatch(sha) is None:
        raise UsageError(f"{sha!r} is not a full commit SHA", "pass the 40-character SHA git printed")


def _check_path(path: str) -> None:
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or any(p in {"", ".", ".."} or p.lower() == ".git" for p in parts)
        or any(ord(c) < 32 or c == "\x7f" for c in path)
    ):
        raise UsageError(
            f"{path!r} is not a valid repository path", "use a relative path like environments/dev/x.yaml"
        )


SYMLINK_MODE = "120000"
GUARDED_DIR = "environments/"


def _guarded(path: str) -> bool:
    """True for a path under ``environments/``, where promobot refuses symbolic links."""
    return path.startswith(GUARDED_DIR)


def _symlink_error(path: str) -> ManifestError:
    return ManifestError(
        "this is a symbolic link; promobot reads only regular files under environments/",
        "replace the link with the file itself (git rm the link, copy the file in, commit)",
        file=path,
    )


def _tree_modes(data: bytes) -> dict[str, str]:
    """``{name: mode}`` of a raw tree object (``<mode> <name>\\0<binary id>`` entries).

    Object ids are 20 bytes (SHA-1) or 32 (SHA-256 repositories): the one that parses wins.
    """
    for id_len in (20, 32):
        modes: dict[str, str] = {}
        pos, size = 0, len(data)
        try:
            while pos < size:
                space = data.index(b" ", pos)
                nul = data.index(b"\0", space)
                mode = data[pos:space]
                if not mode.isdigit():
                    raise ValueError(mode)
                modes[data[space + 1 : nul].decode("utf-8", "surrogateescape")] = mode.decode().zfill(6)
                pos = nul + 1 + id_len
        except ValueError:
            continue
        if pos == size:
            return modes
    return {}


def _shell_quote(path: str) -> str:
    """``path`` as a shell word (for commands promobot suggests)."""
    return path if re.fullmatch(r"[A-Za-z0-9._/@%+=:,-]+", path) else "'" + path.replace("'", "'\\''") + "'"


def _manifest_parts(path: str) -> tuple[str, str]:
    match = _MANIFEST_RE.fullmatch(path)
    if match is None or not is_valid_name(match.group(1)) or not is_valid_name(match.group(2)):
        raise UsageError(f"{path!r} is not a manifest path", "expected environments/<env>/<model>.yaml")
    return match.group(1), match.group(2)


def _yaml_scalar(text: str | None) -> str | None:
    """The value of a one-line ``version:`` scalar: quoted or plain, comment stripped."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if text[0] == '"':
        end = 1
        while end < len(text) and text[end] != '"':
            end += 2 if text[end] == "\\" else 1
        return text[1:end].replace('\\"', '"').replace("\\\\", "\\")
    if text[0] == "'":
        out, i = [], 1
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    out.append("'")
                    i += 2
                    continue
                break
            out.append(text[i])
            i += 1
        return "".join(out)
    comment = _COMMENT_RE.search(text)
    return (text[: comment.start()] if comment else text).strip() or None


def _parse_ident(person: str) -> tuple[str, str]:
    match = _AUTHOR_RE.fullmatch(person)
    if match is None:
        raise UsageError(f"{person!r} is not a git identity", 'write it as "Name <email>"')
    return match.group(1), match.group(2)


class _FileChange:
    """How one commit changed one manifest's ``version:`` line (filled in while parsing the diff)."""

    __slots__ = ("created", "deleted", "new", "old", "path", "saw_new", "saw_old")

    def __init__(
        self,
        path: str,
        created: bool = False,
        deleted: bool = False,
        old: str | None = None,
        new: str | None = None,
        saw_old: bool = False,
        saw_new: bool = False,
    ) -> None:
        self.path, self.created, self.deleted = path, created, deleted
        self.old, self.new, self.saw_old, self.saw_new = old, new, saw_old, saw_new


class _Object(NamedTuple):
    """One answer of ``git cat-file --batch``."""

    kind: str
    data: bytes
    id: str


class _LogCommit(NamedTuple):
    sha: str
    at: int
    author: str
    subject: str
    trailers: Mapping[str, str]
    changes: tuple[_FileChange, ...]


class GitWorkspace:
    """A git repository (a checkout, possibly with a remote) as promobot's ``Workspace``."""

    def __init__(
        self,
        path: Path,
        *,
        remote: str | None = None,
        auth_header: str | None = None,
        default_branch: str | None = None,
    ) -> None:
        if remote is not None and _REMOTE_RE.fullmatch(remote) is None:
            raise UsageError(
                f"{remote!r} is not a git remote name", "pass the name of a configured remote, e.g. origin"
            )
        if auth_header is not None and any(ord(c) < 32 for c in auth_header):
            raise UsageError("the git authentication header contains a control character")
        if default_branch is not None:
            _check_branch(default_branch)
        self.root = Path(path)
        self.remote = remote
        self._auth_header = auth_header
        self._default_branch = default_branch
        self._common_dir: Path | None = None
        self._bare: bool | None = None
        self._remote_refs: dict[str, str] | None = None
        self._identity: dict[str, str] | None = None
        self._bloom: bool | None = None
        self._start: _StartFacts | None = None
        self._pending: subprocess.Popen[bytes] | None = None
        """The ``cat-file --batch`` that answered ``resolve``, kept open until the next git call: when
        that call is a read (a tip, then the files at it), the same process answers it."""
        self._pending_lock = threading.Lock()
        self._pending_end: weakref.finalize[[subprocess.Popen[bytes]], GitWorkspace] | None = None
        self._tree_ids: dict[tuple[str, str], str] = {}
        """``(commit SHA, path) → tree id`` of trees ``read_many`` fetched anyway (a commit's trees
        never change): ``tree_id`` answers from it without a process."""
        self.commit_date: datetime | None = None
        """When set (promobot's ``now``), every commit this workspace writes carries this time."""
        self.git_calls = 0
        """How many git processes this workspace started (for tests and benchmarks)."""
        self.warnings: list[str] = []
        """Things a user should know that did not stop the operation (e.g. a dirty tree)."""

    def __repr__(self) -> str:  # never shows the auth header
        return f"GitWorkspace({str(self.root)!r}, remote={self.remote!r})"

    @classmethod
    def discover(
        cls,
        path: Path,
        *,
        remote: str | None = None,
        auth_header: str | None = None,
        default_branch: str | None = None,
        start: bool = False,
    ) -> GitWorkspace:
        """The workspace of the repository containing ``path`` (its top-level directory).

        With ``start`` (a local command starting up), the same git process also says where
        HEAD points and whether main and master exist, and the start-up configuration is read
        in one process: ``current_branch``, the default-branch choice and ``user_name`` answer
        from that until ``end_start``. Raises ``UsageError`` when ``path`` is not inside a
        git repository.
        """
        if not Path(path).is_dir():
            raise UsageError(f"{path} is not a directory", NOT_A_REPO_HINT)
        discovery = ["rev-parse", "--show-toplevel", *_REPO_FACTS[1:]]
        facts: _StartFacts | None = None
        result = _spawn([*discovery, *_START_FACTS], cwd=Path(path)) if start and remote is None else None
        if result is not None and result.returncode == 0:
            lines = result.out.split("\n")  # top level, common dir, bare, [main], [master], HEAD, short
            full, short = lines[-3], lines[-2]
            present = frozenset(n.removeprefix("refs/heads/") for n in lines[3:-3])
            facts = _StartFacts(None if full == "HEAD" else short, present)
        else:  # an unborn HEAD fails the call above (or it was not asked): ask the plain questions
            result = _spawn(discovery, cwd=Path(path))
            if result.returncode != 0:
                raise UsageError(f"not a git repository: {path}", NOT_A_REPO_HINT)
        root, repo_facts = result.out.split("\n", 1)
        ws = cls(Path(root), remote=remote, auth_header=auth_header, default_branch=default_branch)
        ws._set_repo_info(repo_facts)  # the same process answered both: one git process fewer per command
        ws._start = facts
        return ws

    def end_start(self) -> None:
        """Forget the start-up facts: from now on every question goes to git again."""
        self._start = None

    def _start_config(self, key: str) -> str | None:
        """``git config --get KEY`` (None when unset or unreadable); during start-up, every key
        of ``_START_CONFIG`` comes from one git process."""
        facts = self._start
        if facts is None or key.lower() not in _START_CONFIG:
            result = self._run(["config", "--get", key], check=False)
            return result.out.strip() if result.returncode == 0 else None
        if facts.config is None:
            keys = "|".join(re.escape(k) for k in _START_CONFIG)
            result = self._run(["config", "-z", "--get-regexp", f"^({keys})$"], check=False)
            facts.config = {}
            for record in result.out.split("\0") if result.returncode == 0 else ():
                name, _, value = record.partition("\n")
                if name:
                    facts.config[name] = value.strip()  # the last value wins, as with --get
        return facts.config.get(key.lower())

    # ------------------------------------------------------------------ the process seam

    def _run(
        self,
        args: Sequence[str],
        *,
        stdin: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> _Result:
        """Run one git process in the repository; raise on failure when ``check``."""
        self._end_pending()
        self.git_calls += 1
        result = _spawn(args, cwd=self.root, stdin=stdin, env=env)
        if check and result.returncode != 0:
            raise _error_for(args, result)
        return result

    def _run_all(
        self, argvs: Sequence[Sequence[str]], *, then: Callable[[int, _Result], object] | None = None
    ) -> list[_Result]:
        """Run several git processes side by side (a thread waits on each); raise on the first failure.

        ``then(i, result)`` runs in the waiting thread as soon as process ``i`` succeeded (parsing
        one log while git still writes the others); an exception it raises is raised here."""
        self._end_pending()
        self.git_calls += len(argvs)
        results: list[_Result | Exception | None] = [None] * len(argvs)

        def run(i: int) -> None:
            try:
                results[i] = result = _spawn(argvs[i], cwd=self.root)
                if then is not None and result.returncode == 0:
                    then(i, result)
            except Exception as exc:  # git is not installed, no process could start: raised below
                results[i] = exc

        threads = [threading.Thread(target=run, args=(i,)) for i in range(1, len(argvs))]
        for thread in threads:
            thread.start()
        run(0)
        for thread in threads:
            thread.join()
        out = []
        for args, result in zip(argvs, results, strict=True):
            if isinstance(result, Exception):
                raise result
            assert result is not None  # every thread was joined
            if result.returncode != 0:
                raise _error_for(args, result)
            out.append(result)
        return out

    def _auth_env(self) -> dict[str, str]:
        if self._auth_header is None:
            return {}
        try:
            n = int(os.environ.get("GIT_CONFIG_COUNT", "0") or "0")
        except ValueError:
            n = 0
        return {
            "GIT_CONFIG_COUNT": str(n + 1),
            f"GIT_CONFIG_KEY_{n}": "http.extraHeader",
            f"GIT_CONFIG_VALUE_{n}": self._auth_header,
        }

    def _load_repo_info(self) -> None:
        self._set_repo_info(self._run(_REPO_FACTS).out)

    def _set_repo_info(self, out: str) -> None:
        """Keep what ``git rev-parse REPO_FACTS`` said (the common git directory, whether bare)."""
        lines = out.splitlines()
        self._common_dir = Path(lines[0])
        self._bare = lines[1].strip() == "true"

    @property
    def git_dir(self) -> Path:
        """The repository's (common) git directory, e.g. ``<root>/.git``."""
        if self._common_dir is None:
            self._load_repo_info()
        assert self._common_dir is not None
        return self._common_dir

    @property
    def is_bare(self) -> bool:
        if self._bare is None:
            self._load_repo_info()
        return bool(self._bare)

    # ------------------------------------------------------------------ refs

    def _tracking(self) -> dict[str, str]:
        if self._remote_refs is None:
            prefix = f"refs/remotes/{self.remote}/"
            out = self._run(["for-each-ref", "--format=%(objectname) %(refname)", prefix]).out
            refs = {}
            for line in out.splitlines():
                sha, _, name = line.partition(" ")
                if name.startswith(prefix) and name != prefix + "HEAD":
                    refs[name[len(prefix) :]] = sha
            self._remote_refs = refs
        return self._remote_refs

    def _rev(self, ref: str) -> str:
        """``ref`` as git should read it: in remote mode, a branch name means the remote's branch."""
        _check_ref(ref)
        if self.remote is not None and not ref.startswith("refs/") and _SHA_RE.fullmatch(ref) is None:
            sha = self._tracking().get(ref)
            if sha is not None:
                return sha
        return ref

    @property
    def default_branch(self) -> str:
        """See the module docstring for how it is chosen."""
        if self._default_branch is None:
            self._default_branch = self._find_default_branch()
        return self._default_branch

    def _find_default_branch(self) -> str:
        if self.remote is not None:
            head = self._run(
                ["symbolic-ref", "-q", "--short", f"refs/remotes/{self.remote}/HEAD"], check=False
            )
            name = head.out.strip()
            if head.returncode == 0 and name.startswith(f"{self.remote}/"):
                return name[len(self.remote) + 1 :]
            for candidate in ("main", "master"):
                if candidate in self._tracking():
                    return candidate
            listing = self._run(["ls-remote", "--symref", self.remote, "HEAD"], env=self._auth_env()).out
            for line in listing.splitlines():
                if line.startswith("ref: refs/heads/") and line.endswith("\tHEAD"):
                    return line[len("ref: refs/heads/") : -len("\tHEAD")]
            raise WorkspaceError(
                f"cannot tell the default branch of remote {self.remote}",
                "pass the default branch explicitly (it is in the event's repository.default_branch)",
            )
        # Local mode: what the repository calls its default, never merely what is checked out
        # (a side branch's unreviewed versions must not become "what runs"). The local forge
        # pins the answer in its state on first use (``pin_default_branch``).
        configured = self._start_config("init.defaultBranch") or ""
        for candidate in (configured, *_USUAL_DEFAULTS):
            if candidate and _BRANCH_RE.fullmatch(candidate) and self._branch_exists(candidate):
                return candidate
        checked_out = self.current_branch()
        if checked_out and not checked_out.startswith(BRANCH_PREFIX):  # never a bot branch
            return checked_out
        raise WorkspaceError(
            "HEAD is detached and there is no main or master branch, so the default branch is unknown",
            "check out the default branch (git switch main) and re-run",
        )

    def _branch_exists(self, branch: str) -> bool:
        if self._start is not None and branch in _USUAL_DEFAULTS:
            return branch in self._start.present
        return self._run(["rev-parse", "--verify", "-q", f"refs/heads/{branch}"], check=False).returncode == 0

    def pin_default_branch(self, branch: str) -> None:
        """Use ``branch`` as the default branch (the local forge's recorded choice)."""
        _check_branch(branch)
        self._default_branch = branch

    def current_branch(self) -> str | None:
        """The branch HEAD points to, or None when detached."""
        if self._start is not None:
            return self._start.head
        head = self._run(["symbolic-ref", "-q", "--short", "HEAD"], check=False)
        return (head.out.strip() or None) if head.returncode == 0 else None

    def refresh(self) -> None:
        """Remote mode: fetch every branch of the remote into its remote-tracking refs."""
        if self.remote is None:
            return
        self.fetch([f"+refs/heads/*:refs/remotes/{self.remote}/*"], prune=True)

    def fetch(self, refspecs: Sequence[str], *, prune: bool = False) -> None:
        """``git fetch <remote> <refspecs…>`` with the authentication header (remote mode only)."""
        if self.remote is None:
            raise WorkspaceError("fetch needs a remote", "construct the workspace with remote='origin'")
        for spec in refspecs:
            _check_ref(spec)
        args = ["fetch", "--no-tags", "--quiet", *(["--prune"] if prune else []), self.remote, *refspecs]
        self._run(args, env=self._auth_env())
        self._remote_refs = None

    def resolve(self, ref: str) -> str | None:
        """The commit SHA ``ref`` names, or None (remote mode prefers the remote's branch)."""
        rev = self._rev(ref)
        if rev != ref:
            return rev
        # ``git cat-file --batch`` answers ``<rev>^{commit}`` as ``rev-parse --verify`` would, and
        # stays open: a read that follows (the policy at the tip) is one more question to the
        # same process, not one more process (issue #16).
        self._end_pending()
        self.git_calls += 1
        try:
            proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_base_env(),
            )
        except FileNotFoundError as exc:
            raise WorkspaceError("git is not installed", "install git and make sure it is on PATH") from exc
        assert proc.stdin is not None and proc.stdout is not None
        sha = None
        try:
            proc.stdin.write(f"{rev}^{{commit}}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().split(b" ")
            if len(header) == 3 and header[1] == b"commit" and header[2].strip().isdigit():
                size = int(header[2])
                if len(proc.stdout.read(size + 1)) == size + 1:
                    sha = header[0].decode()
        except OSError:  # git stopped (not a repository any more): as rev-parse, no such commit
            pass
        if sha is None:
            _finish(proc)
            return None
        with self._pending_lock:  # (another thread's open one, if any, ends here)
            earlier, self._pending = self._pending, proc
            _PENDING.add(self)
            if self._pending_end is not None:
                self._pending_end.detach()
            self._pending_end = weakref.finalize(self, _end_idle, proc)
        if earlier is not None:
            _finish(earlier)
        return sha

    def _take_pending(self) -> subprocess.Popen[bytes] | None:
        with self._pending_lock:
            proc, self._pending = self._pending, None
            if self._pending_end is not None:
                self._pending_end.detach()
                self._pending_end = None
            _PENDING.discard(self)
        return proc

    def _end_pending(self) -> None:
        """Another git call comes: the ``cat-file`` that ``resolve`` left open ends first."""
        if self._pending is not None:
            proc = self._take_pending()
            if proc is not None:
                _finish(proc)

    # ------------------------------------------------------------------ reading

    def _cat_batch(self, lines: Sequence[str]) -> list[_Object | None]:
        """One ``git cat-file --batch``: (type, content, id) per input line, None when missing (the
        one ``resolve`` left open, when nothing else ran since)."""
        if not lines:
            return []
        request = "".join(f"{x}\n" for x in lines).encode()
        proc = self._take_pending() if self._pending is not None else None
        if proc is not None:
            out, err = proc.communicate(request)
            result = _Result(proc.returncode, out, err)
            if result.returncode != 0:
                raise _error_for(["cat-file", "--batch"], result)
            data = result.stdout
        else:
            data = self._run(["cat-file", "--batch"], stdin=request).stdout
        results: list[_Object | None] = []
        pos = 0
        for _ in lines:
            end = data.index(b"\n", pos)
            header = data[pos:end].decode("utf-8", "replace").split(" ")
            pos = end + 1
            if len(header) == 3 and header[2].isdigit():
                size = int(header[2])
                results.append(_Object(header[1], data[pos : pos + size], header[0]))
                pos += size + 1
            else:  # "<name> missing" / "<name> ambiguous"
                results.append(None)
        return results

    def read(self, ref: str, path: str) -> bytes | None:
        """File content at ``ref`` without checking anything out; None when absent."""
        return self.read_many(ref, [path])[path]

    def read_many(self, ref: str, paths: Sequence[str]) -> dict[str, bytes | None]:
        """Several files at ``ref`` in one git process; None for each absent one."""
        rev = self._rev(ref)
        for path in paths:
            _check_path(path)
        # The parent trees come in the same process: they carry each entry's mode (symlinks).
        parents = sorted({p.rpartition("/")[0] for p in paths if _guarded(p)})
        found = self._cat_batch([f"{rev}:{p}" for p in paths] + [f"{rev}:{d}" for d in parents])
        trees = dict(zip(parents, found[len(paths) :], strict=True))
        if _SHA_RE.fullmatch(rev):
            for parent, tree in trees.items():
                if tree is not None and tree.kind == "tree":
                    self._tree_ids[(rev, parent)] = tree.id
        for path, r in zip(paths, found[: len(paths)], strict=True):
            tree = trees.get(path.rpartition("/")[0])
            if (
                r is not None
                and tree is not None
                and tree[0] == "tree"
                and _tree_modes(tree[1]).get(path.rpartition("/")[2]) == SYMLINK_MODE
            ):
                raise _symlink_error(path)
        return {
            p: (r[1] if r is not None and r[0] == "blob" else None)
            for p, r in zip(paths, found[: len(paths)], strict=True)
        }

    def read_blobs(self, ids: Iterable[str]) -> dict[str, bytes]:
        """``{blob id: content}`` through ONE ``git cat-file --batch``; unknown ids are left out."""
        wanted = list(dict.fromkeys(ids))
        for blob in wanted:
            if re.fullmatch(r"[0-9a-f]{40}([0-9a-f]{24})?", blob) is None:
                raise UsageError(f"{blob!r} is not a blob id")
        found = self._cat_batch(wanted)
        return {b: r[1] for b, r in zip(wanted, found, strict=True) if r is not None and r[0] == "blob"}

    def _ls_tree(
        self, ref: str, path: str, *, recursive: bool, entry: bool = False
    ) -> list[tuple[str, str, str]]:
        """``(kind, id, name)`` of the entries (with ``entry``, of ``path`` itself); a symbolic
        link under ``environments/`` is refused."""
        rev = self._rev(ref)
        args = ["ls-tree", "-z", *(["-r"] if recursive else []), rev]
        if path:
            _check_path(path)
            args += ["--", path if recursive or entry else f"{path}/"]
        result = self._run(args, check=False)
        if result.returncode != 0:
            low = result.err.lower()
            if "not a valid object name" in low or "not a tree object" in low:
                raise UsageError(
                    f"no such revision: {ref}",
                    "name a branch, tag or commit that exists (see `git log --oneline --all`)",
                )
            raise _error_for(args, result)
        out = result.out
        entries = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, name = record.partition("\t")
            mode, kind, sha = meta.split(" ")
            if mode == SYMLINK_MODE and _guarded(name):
                raise _symlink_error(name)
            entries.append((kind, sha, name))
        return entries

    def list_dir(self, ref: str, path: str) -> list[str]:
        """Names of the files directly in ``path`` at ``ref``, sorted (empty when absent)."""
        path = path.strip("/")
        return sorted(
            name.rsplit("/", 1)[-1]
            for kind, _, name in self._ls_tree(ref, path, recursive=False)
            if kind == "blob"
        )

    def blob_ids(self, ref: str, path: str) -> dict[str, str]:
        """``{repository path: blob id}`` for every file under ``path`` at ``ref`` (one process).

        ``blob_ids(ref, "environments")`` gives keys like ``"environments/dev/fraud.yaml"``.
        """
        path = path.strip("/")
        return {name: sha for kind, sha, name in self._ls_tree(ref, path, recursive=True) if kind == "blob"}

    def tree_id(self, ref: str, path: str) -> str | None:
        """The id of the tree ``path`` at ``ref``, None when there is none (one ``ls-tree`` that
        reads only the trees above ``path``)."""
        path = path.strip("/")
        known = self._tree_ids.get((self._rev(ref), path))
        if known is not None:  # read with the files above it (the policy, the rejections)
            return known
        for kind, sha, name in self._ls_tree(ref, path, recursive=False, entry=True):
            if kind == "tree" and name == path:
                return sha
        return None

    def read_tree_files(self, path: str, *, ref: str | None = None) -> dict[str, bytes]:
        """``{repository path: content}`` of every file under ``path``.

        At ``ref`` (two git processes), or, with ``ref=None``, in the working tree: the
        tracked and untracked-but-not-ignored files as they are on disk now (so that
        ``promobot validate`` works as a pre-commit hook). Symbolic links are skipped.
        """
        path = path.strip("/")
        if ref is not None:
            ids = self.blob_ids(ref, path)
            blobs = self.read_blobs(ids.values())
            return {p: blobs[b] for p, b in ids.items() if b in blobs}
        _check_path(path)
        out = self._run(["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", path]).out
        files: dict[str, bytes] = {}
        for name in sorted(set(out.split("\0")) - {""}):
            on_disk = self.root / name
            if on_disk.is_symlink() and _guarded(name):
                raise _symlink_error(name)
            if on_disk.is_file() and not on_disk.is_symlink():
                files[name] = on_disk.read_bytes()
        return files

    def file_at(self, ref: str, path: str) -> tuple[str, int] | None:
        """``(git mode, size in bytes)`` of the file ``path`` at ``ref``; None when absent or a directory."""
        _check_path(path)
        out = self._run(["ls-tree", "-l", "-z", self._rev(ref), "--", path]).out
        for record in out.split("\0"):
            meta, _, name = record.partition("\t")
            fields = meta.split()
            if name == path and len(fields) == 4 and fields[1] == "blob" and fields[3].isdigit():
                return fields[0], int(fields[3])
        return None

    @contextlib.contextmanager
    def open_file(self, ref: str, path: str) -> Iterator[BinaryIO]:
        """Stream the content of ``path`` at ``ref`` (one ``git cat-file`` process, never all in memory)."""
        _check_path(path)
        self._end_pending()
        self.git_calls += 1
        proc = subprocess.Popen(
            ["git", "cat-file", "blob", f"{self._rev(ref)}:{path}"],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_base_env(),
        )
        assert proc.stdout is not None
        try:
            yield cast(BinaryIO, proc.stdout)
        finally:
            proc.stdout.close()
            proc.kill()
            proc.wait()

    def export(self, ref: str, dest: Path) -> None:
        """Write the files of ``ref`` into the directory ``dest`` (no ``.git``; for command gates).

        Uses a temporary index, so the repository's own index and working tree stay as they are.
        """
        rev = self._rev(ref)
        dest.mkdir(parents=True, exist_ok=True)
        import tempfile  # on a write only: a warm read never pays for it

        with tempfile.TemporaryDirectory(prefix="promobot-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._run(["read-tree", rev], env=env)
            self._run([f"--work-tree={dest}", "checkout-index", "-a", "-f"], env=env)

    def commit_message(self, sha: str) -> str:
        """The full message of commit ``sha`` (subject, body and trailers)."""
        return self._run(["log", "-1", "--format=%B", self._rev(sha), "--"]).out.rstrip("\n") + "\n"

    def user_name(self) -> str | None:
        """``git config user.name``, or None when it is not set."""
        return self._start_config("user.name") or None

    def git_common_dir(self) -> Path:
        """The common git directory (same as ``git_dir``), e.g. ``<root>/.git``."""
        return self.git_dir

    def changed_files(self, base: str, head: str) -> list[str]:
        """Repository paths that differ between the trees of ``base`` and ``head``."""
        out = self._run(
            ["diff", "--no-renames", "--name-only", "-z", self._rev(base), self._rev(head), "--"]
        ).out
        return [p for p in out.split("\0") if p]

    def commit_time(self, sha: str) -> int:
        """Committer time of ``sha`` as a Unix timestamp."""
        return int(self._run(["log", "-1", "--format=%ct", self._rev(sha), "--"]).out.strip())

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        result = self._run(
            ["merge-base", "--is-ancestor", self._rev(ancestor), self._rev(descendant)], check=False
        )
        if result.returncode not in (0, 1):
            raise _error_for(["merge-base"], result)
        return result.returncode == 0

    def commits_between(self, base: str, head: str) -> list[str]:
        """SHAs in ``base..head``, newest first."""
        return self._run(["rev-list", f"{self._rev(base)}..{self._rev(head)}", "--"]).out.split()

    def commit_authors(self, base: str, head: str) -> dict[str, str]:
        """``{sha: "author name, committer name"}`` for the commits in ``base..head`` (one git process).

        Both names are given because both put the commit there: the local forge treats each
        as a pusher of the pull request.
        """
        span = f"{self._rev(base)}..{self._rev(head)}"
        out = self._run(["log", "--format=%H%x00%an%x00%cn", span, "--"]).out
        found: dict[str, str] = {}
        for line in out.splitlines():
            parts = line.split("\0")
            if len(parts) == 3:
                found[parts[0]] = f"{parts[1]}\0{parts[2]}"
        return found

    def merge_base(self, a: str, b: str) -> str | None:
        """The best common ancestor of ``a`` and ``b``, or None when they share no history."""
        result = self._run(["merge-base", self._rev(a), self._rev(b)], check=False)
        if result.returncode == 1:
            return None
        if result.returncode != 0:
            raise _error_for(["merge-base"], result)
        return result.out.strip()

    # ------------------------------------------------------------------ writing objects

    def _ident_env(self, author: str | None) -> dict[str, str]:
        if self._identity is None:
            configured = self._run(["config", "--get-regexp", r"^user\.(name|email)$"], check=False).out
            keys = {line.split(" ", 1)[0] for line in configured.splitlines()}
            identity = {}
            if "user.name" not in keys and "GIT_COMMITTER_NAME" not in os.environ:
                identity["GIT_COMMITTER_NAME"] = FALLBACK_NAME
            if "user.email" not in keys and "GIT_COMMITTER_EMAIL" not in os.environ:
                identity["GIT_COMMITTER_EMAIL"] = FALLBACK_EMAIL
            self._identity = identity
        env = dict(self._identity)
        if self.commit_date is not None:
            stamp = self.commit_date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        if author is not None:  # the bot's own commits: authored and committed by the bot
            name, email = _parse_ident(author)
            env["GIT_AUTHOR_NAME"], env["GIT_AUTHOR_EMAIL"] = name, email
            env["GIT_COMMITTER_NAME"], env["GIT_COMMITTER_EMAIL"] = name, email
        else:
            if "GIT_COMMITTER_NAME" in env and "GIT_AUTHOR_NAME" not in os.environ:
                env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"]
            if "GIT_COMMITTER_EMAIL" in env and "GIT_AUTHOR_EMAIL" not in os.environ:
                env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"]
        return env

    def commit(
        self,
        *,
        parent: str,
        files: Mapping[str, bytes | None],
        message: str,
        author: str | None = None,
    ) -> str:
        """Write a commit on top of ``parent`` changing ``files`` (None deletes); no checkout.

        Uses a temporary index: the working tree, the real index and every ref stay as
        they are. Five git processes whatever the number of files. Returns the new SHA.
        """
        parent_sha = self.resolve(parent)
        if parent_sha is None:
            raise WorkspaceError(f"cannot commit on top of {parent!r}: no such commit", "fetch it and re-run")
        for path in files:
            _check_path(path)
        zero = "0" * len(parent_sha)
        import tempfile

        with tempfile.TemporaryDirectory(prefix="promobot-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._run(["read-tree", parent_sha], env=env)
            written = [(p, c) for p, c in files.items() if c is not None]
            blob_paths = []
            for i, (_, content) in enumerate(written):
                blob_file = Path(tmp) / f"blob{i}"
                blob_file.write_bytes(content)
                blob_paths.append(str(blob_file))
            blob_ids: list[str] = []
            if written:
                out = self._run(
                    ["hash-object", "-w", "--no-filters", "--stdin-paths"],
                    stdin="\n".join(blob_paths).encode() + b"\n",
                ).out
                blob_ids = out.split()
            blobs = dict(zip((p for p, _ in written), blob_ids, strict=True))
            info = "".join(
                f"100644 {blobs[p]}\t{p}\0" if c is not None else f"0 {zero}\t{p}\0" for p, c in files.items()
            )
            if info:
                self._run(["update-index", "-z", "--index-info"], stdin=info.encode(), env=env)
            tree = self._run(["write-tree"], env=env).out.strip()
        return self.commit_tree(tree, [parent_sha], message, author=author)

    def commit_tree(self, tree: str, parents: Sequence[str], message: str, author: str | None = None) -> str:
        """``git commit-tree``: a commit of ``tree`` with ``parents`` (for merges and squashes).

        The message goes through stdin (no argv limit); identity as for ``commit``.
        """
        _check_sha(tree)
        args = ["commit-tree", tree]
        for p in parents:
            _check_sha(p)
            args += ["-p", p]
        args += ["-F", "-"]
        return self._run(args, stdin=message.encode(), env=self._ident_env(author)).out.strip()

    def merge_tree(self, base: str, head: str, merge_base: str | None = None) -> str | None:
        """The tree of merging ``head`` into ``base`` (``git merge-tree --write-tree``); None on conflict.

        With ``merge_base`` given, that commit is the merge base. git older than 2.40
        lacks ``--merge-base``; there a trivial three-way merge on a temporary index is
        used instead (same-file edits on both sides count as a conflict).
        """
        base_rev, head_rev = self._rev(base), self._rev(head)
        args = ["merge-tree", "--write-tree", "--no-messages"]
        if merge_base is not None:
            mb = self._rev(merge_base)
            result = self._run([*args, f"--merge-base={mb}", base_rev, head_rev], check=False)
            if result.returncode == 129:  # unknown option: git < 2.40
                return self._trivial_merge(mb, base_rev, head_rev)
        else:
            result = self._run([*args, base_rev, head_rev], check=False)
        if result.returncode == 1:
            return None
        if result.returncode != 0:
            raise _error_for(["merge-tree"], result)
        return result.out.split("\n", 1)[0].strip()

    def _trivial_merge(self, mb: str, ours: str, theirs: str) -> str | None:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="promobot-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._run(["read-tree", "-i", "-m", "--aggressive", mb, ours, theirs], env=env)
            result = self._run(["write-tree"], env=env, check=False)
            return result.out.strip() if result.returncode == 0 else None

    # ------------------------------------------------------------------ moving branches

    def update_branch(self, branch: str, sha: str, *, expected: str | None, force: bool = False) -> None:
        """Move (or create, with ``expected=None``) ``branch`` to ``sha``; see ``Workspace``.

        Raises ``ConflictError`` when the branch is not at ``expected`` (or exists when
        creating) or, without ``force``, when the move is not a fast-forward. Refuses
        ``force`` on the default branch.
        """
        _check_branch(branch)
        _check_sha(sha)
        if expected is not None:
            _check_sha(expected)
        if force and branch == self.default_branch:
            raise WorkspaceError(
                f"refusing to force-move the default branch {branch}",
                "promobot never rewrites the default branch's history; this is a bug, please report it",
            )
        if self.remote is not None:
            self._push(branch, sha, expected=expected, force=force)
        else:
            self._update_local(branch, sha, expected=expected, force=force)

    def _update_local(self, branch: str, sha: str, *, expected: str | None, force: bool) -> None:
        ref = f"refs/heads/{branch}"
        current = self.resolve(ref)
        if expected is None and current is not None and not force:
            raise ConflictError(f"branch {branch} already exists", "someone created it first; re-run")
        if expected is not None and current != expected:
            raise ConflictError(f"branch {branch} moved (it is not at {expected[:12]} any more)", "re-run")
        if not force and current is not None and not self.is_ancestor(current, sha):
            raise ConflictError(
                f"moving {branch} to {sha[:12]} is not a fast-forward", f"{branch} has new commits; re-run"
            )
        tree_moved = checked_out = False
        if current is not None and current != sha and not self.is_bare and self.current_branch() == branch:
            checked_out = True
            tree_moved = self._move_worktree(current, sha)
        args = ["update-ref", "-m", f"promobot: move {branch}", ref, sha]
        if expected is not None:
            args.append(expected)
        elif not force:
            args.append("0" * len(sha))
        result = self._run(args, check=False)
        if result.returncode != 0:
            if tree_moved:
                self._run(["read-tree", "-m", "-u", sha, current or sha], check=False)
            raise ConflictError(f"branch {branch} moved while promobot was updating it", "re-run")
        if checked_out and not tree_moved:
            assert current is not None
            self._follow_around_edits(branch, current, sha)

    def _move_worktree(self, old: str, new: str) -> bool:
        """Fast-forward the checked-out files from ``old`` to ``new`` (all or nothing, like
        ``git merge --ff-only``); False when uncommitted changes are in the way."""
        self._run(["update-index", "-q", "--refresh"], check=False)
        return self._run(["read-tree", "-m", "-u", old, new], check=False).returncode == 0

    def _follow_around_edits(self, branch: str, old: str, new: str) -> None:
        """The checked-out ``branch`` moved from ``old`` to ``new`` under uncommitted changes.

        ``git merge --ff-only`` would refuse; the merge has happened (the forge did it), so
        the index and the clean files follow ``new`` and the edited files stay exactly as the
        user left them. Nothing is staged that nobody made (an index still at ``old`` would
        stage a revert of the merge, which the next ``git commit`` would silently record), and
        nothing is lost: the edits are also saved as a commit on ``old`` under
        ``refs/promobot/saved/``, and one line says how to re-apply them on top of ``new``.
        """
        env = {"GIT_LITERAL_PATHSPECS": "1"}
        changed = self._run(["diff-tree", "-r", "-z", "--name-only", "--no-renames", old, new]).out
        affected = sorted(p for p in changed.split("\0") if p)
        staged = self._run(["diff-index", "--cached", "-z", "--name-only", old, "--", *affected], env=env)
        unstaged = self._run(["diff-files", "-z", "--name-only", "--", *affected], env=env)
        untracked = self._run(["ls-files", "-z", "--others", "--", *affected], env=env)
        edited = {p for r in (staged, unstaged, untracked) for p in r.out.split("\0") if p}
        dirty = [p for p in affected if p in edited]
        clean = [p for p in affected if p not in edited]
        saved = self._save_edits(old, dirty, staged=[p for p in staged.out.split("\0") if p]) if dirty else ""
        # The index follows the new commit for every affected path; files nobody edited follow too.
        if affected:
            self._run(["reset", "-q", new, "--", *affected], env=env)
        present = {p for p in clean if (self.root / p).exists() or (self.root / p).is_symlink()}
        in_new = (
            set(self._run(["ls-tree", "-r", "-z", "--name-only", new, "--", *clean]).out.split("\0"))
            if clean
            else set()
        )
        if clean:
            keep = [p for p in clean if p in in_new]
            if keep:
                self._run(
                    ["checkout-index", "-f", "-z", "--stdin"], stdin="".join(f"{p}\0" for p in keep).encode()
                )
            for p in clean:
                if p not in in_new and p in present:
                    (self.root / p).unlink()
        if not dirty:
            return
        shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
        quoted = " ".join(_shell_quote(p) for p in dirty)
        note = (
            f"{branch} moved to {new[:12]} (the merge), but your uncommitted changes to {shown} were left "
            f"as you had them, without the merged change (saved as {saved}) — to take the merge and keep "
            "your edits: git restore --source=HEAD --staged --worktree -- "
            f"{quoted} && git cherry-pick -n {saved}"
        )
        logger.warning("%s", note)
        self.warnings.append(note)

    def _save_edits(self, old: str, paths: Sequence[str], *, staged: Sequence[str]) -> str:
        """A commit on ``old`` holding the working-tree content of ``paths``; returns its ref name."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="promobot-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._run(["read-tree", old], env=env)
            info = []
            zero = "0" * len(old)
            for path in paths:
                file = self.root / path
                if file.is_symlink() or not file.is_file():
                    info.append(f"0 {zero}\t{path}\0")
                    continue
                blob = self._run(["hash-object", "-w", "--no-filters", "--", path]).out.strip()
                mode = "100755" if os.access(file, os.X_OK) else "100644"
                info.append(f"{mode} {blob}\t{path}\0")
            if info:
                self._run(["update-index", "-z", "--index-info"], stdin="".join(info).encode(), env=env)
            tree = self._run(["write-tree"], env=env).out.strip()
        message = "promobot: uncommitted changes saved before the checked-out branch moved\n"
        if staged:
            message += (
                "\nStaged before the move (the index was reset to the merge): " + ", ".join(staged) + "\n"
            )
        sha = self.commit_tree(tree, [old], message)
        ref = f"refs/promobot/saved/{sha[:12]}"
        self._run(["update-ref", ref, sha])
        return ref

    def _push(self, branch: str, sha: str, *, expected: str | None, force: bool) -> None:
        assert self.remote is not None
        ref = f"refs/heads/{branch}"
        if expected is not None and not force:
            try:
                fast_forward = self.is_ancestor(expected, sha)
            except WorkspaceError:
                fast_forward = False
            if not fast_forward:
                raise ConflictError(
                    f"moving {branch} to {sha[:12]} is not a fast-forward",
                    f"{branch} has new commits; re-run",
                )
        args = ["push", "--porcelain", "--no-verify"]
        if expected is not None:
            args.append(f"--force-with-lease={ref}:{expected}")
        elif force:
            args.append("--force")
        else:
            args.append(f"--force-with-lease={ref}:")
        args += [self.remote, f"{sha}:{ref}"]
        result = self._run(args, env=self._auth_env(), check=False)
        if result.returncode != 0:
            rejected = any(line.startswith("!") for line in result.out.splitlines())
            if rejected:
                raise ConflictError(
                    f"the remote refused to move {branch}: it changed since promobot read it", "re-run"
                )
            raise _error_for(["push"], result)
        self._run(["update-ref", f"refs/remotes/{self.remote}/{branch}", sha], check=False)
        if self._remote_refs is not None:
            self._remote_refs[branch] = sha

    def delete_branch(self, branch: str) -> None:
        """Delete ``branch`` (here, or on the remote in remote mode); absent is not an error.

        Refuses the default branch and, in local mode, the checked-out branch.
        """
        _check_branch(branch)
        if branch == self.default_branch:
            raise WorkspaceError(
                f"refusing to delete the default branch {branch}", "this is a bug, please report it"
            )
        if self.remote is not None:
            if branch not in self._tracking():
                return
            result = self._run(
                ["push", "--porcelain", "--no-verify", self.remote, f":refs/heads/{branch}"],
                env=self._auth_env(),
                check=False,
            )
            if result.returncode != 0 and "remote ref does not exist" not in result.err:
                raise _error_for(["push"], result)
            self._run(["update-ref", "-d", f"refs/remotes/{self.remote}/{branch}"], check=False)
            if self._remote_refs is not None:
                self._remote_refs.pop(branch, None)
            return
        if not self.is_bare and self.current_branch() == branch:
            raise WorkspaceError(
                f"cannot delete {branch}: it is checked out", "switch to another branch and re-run"
            )
        self._run(["update-ref", "-d", f"refs/heads/{branch}"])

    # ------------------------------------------------------------------ working tree

    def uncommitted(self, path: str) -> list[str]:
        """Files under ``path`` whose working-tree or staged content differs from HEAD (or untracked)."""
        _check_path(path.rstrip("/"))
        out = self._run(
            ["status", "--porcelain", "-z", "--untracked-files=all", "--no-renames", "--", path]
        ).out
        return sorted({record[3:] for record in out.split("\0") if len(record) > 3})

    def is_clean(self) -> bool:
        """True when tracked files and the index match HEAD (untracked files are ignored)."""
        out = self._run(["status", "--porcelain", "--untracked-files=no"]).out
        return not out.strip()

    # ------------------------------------------------------------------ history

    def is_shallow(self) -> bool:
        """True for a shallow clone (``git clone --depth``), whose history is cut off."""
        return (self.git_dir / "shallow").is_file()

    def ensure_history(self, path: str | None = None) -> None:
        """Make the whole history readable: unshallow in remote mode, else explain.

        ``path`` is accepted for callers that name the file they are about to read; the
        whole history is fetched either way.
        """
        del path
        if not self.is_shallow():
            return
        if self.remote is None:
            raise WorkspaceError("this clone is shallow, so promobot cannot read history", SHALLOW_HINT)
        self._run(["fetch", "--unshallow", "--no-tags", "--quiet", self.remote], env=self._auth_env())
        self._remote_refs = None

    def history(self, path: str, *, ref: str) -> list[HistoryEntry]:
        """Commits on ``ref`` that changed the manifest ``path``, newest first, trailers parsed.

        One ``git log`` process (see ``history_many``).
        """
        return self.history_many([path], ref=ref)

    def history_many(
        self, paths: Sequence[str], *, ref: str, cached: bool = False, under: str | None = None
    ) -> list[HistoryEntry]:
        """``history`` of several manifests (e.g. one model in every environment) in one git log
        (one per manifest, side by side, when the commit-graph has Bloom filters: ``_log``).

        Entries are newest first in graph order (``git log --topo-order``: a commit before
        its parents whatever the clocks said); a commit that changed two of the paths gives
        two entries. With ``cached`` (the read-only ``history`` command, never a decision)
        the entries are kept in ``.git/promobot/history/`` keyed by the paths and the tip
        they were read at, and extended with the entries of ``git log OLD..NEW`` (each
        manifest's version carried on from the cached ones) when the old tip is an ancestor
        of the new one; anything else (a moved or rewritten branch, a corrupt file,
        another promobot version) reads the whole log again and replaces the file.
        ``under`` (a folder such as ``environments``) limits git by that folder instead of by
        each path: for thousands of paths (``promobot site``) git matches one pathspec, not
        thousands per commit (0.2 s instead of 30 s at 3,000 manifests).
        """
        targets = {p: _manifest_parts(p) for p in paths}
        if not targets:
            return []
        self.ensure_history()
        rev = self._rev(ref)
        if not cached:
            return _entries(self._log([rev], targets, under), targets)
        tip = rev if _SHA_RE.fullmatch(rev) else self.resolve(rev)
        if tip is None:
            raise WorkspaceError(f"no such revision {ref!r}", "check the branch name")
        file = self.git_common_dir() / "promobot" / "history" / _history_file_name(targets)
        old = _load_history(file, targets)
        if old is not None and old.tip == tip:
            return old.entries
        where: list[str] = []
        if old is not None:
            known = self._run(["merge-base", "--is-ancestor", old.tip, tip], check=False)
            if known.returncode == 0:
                new = self._log([f"{old.tip}..{tip}"], targets, under)
                entries = _entries(new, targets, _versions(old.paths, old.entries), where) + old.entries
                where += old.paths
                _save_history(file, _CachedHistory(tip, where, entries), targets, new=False)
                return entries
            where = []
        entries = _entries(self._log([tip], targets, under), targets, {}, where)
        _save_history(file, _CachedHistory(tip, where, entries), targets, new=old is None)
        return entries

    def _log(
        self, revs: Sequence[str], targets: Mapping[str, tuple[str, str]], under: str | None = None
    ) -> list[_LogCommit]:
        """The commits of ``git log REVS -- TARGETS`` (or ``-- UNDER``) that changed a target,
        newest first (graph order).

        With changed-path Bloom filters in the commit-graph and several targets, one ``git log``
        per target runs side by side, beside one ``git rev-list --topo-order REVS`` that orders
        their union: git (2.39) consults the filters only when a log has a single pathspec, so
        three paths in one log diff the trees of every commit (0.6 s on 20,000 commits) where
        each single-path log skips almost all of them (0.15 s; benchmarks/README.md).
        """
        if under is None and len(targets) > 1 and self._has_changed_path_filters():
            return self._log_per_path(revs, targets)
        return _parse_log(self._run(_log_args(revs, [under] if under else list(targets))).out, set(targets))

    def _log_per_path(self, revs: Sequence[str], targets: Mapping[str, tuple[str, str]]) -> list[_LogCommit]:
        """``_log`` as one log per target, merged in the order of ``git rev-list --topo-order``
        (a commit before its parents, whatever the clocks say); a commit that changed several
        targets is one commit with their changes in git's path order, as one log gives it."""
        paths = sorted(targets)
        parsed: dict[int, list[_LogCommit]] = {}

        def parse(i: int, result: _Result) -> None:  # in the thread that waited on the log
            if i:
                parsed[i] = _parse_log(result.out, {paths[i - 1]})

        order, *_ = self._run_all(
            [["rev-list", "--topo-order", *revs, "--"], *(_log_args(revs, [p], order=False) for p in paths)],
            then=parse,
        )
        merged: dict[str, _LogCommit] = {}
        for i in range(1, len(paths) + 1):
            for commit in parsed[i]:
                seen = merged.get(commit.sha)
                if seen is not None:
                    changes = tuple(sorted(seen.changes + commit.changes, key=lambda c: c.path))
                    commit = seen._replace(changes=changes)
                merged[commit.sha] = commit
        if len(merged) < 2:
            return list(merged.values())
        rank = {sha: i for i, sha in enumerate(order.out.split())}
        return sorted(merged.values(), key=lambda c: rank[c.sha])

    def _has_changed_path_filters(self) -> bool:
        """True when the repository's commit-graph has changed-path Bloom filters (read once)."""
        if self._bloom is None:
            graph = _latest_graph_file(self.git_common_dir() / "objects" / "info")
            self._bloom = graph is not None and _has_bloom_filters(graph)
        return self._bloom

    def ensure_commit_graph(self, *, max_new_commits: int = 500, ref: str | None = None) -> bool:
        """Keep a commit-graph with changed-path Bloom filters, which makes ``history`` fast.

        Writes one (``git commit-graph write --reachable --changed-paths``) when there is
        none, when it lacks Bloom filters, or when ``ref`` (default branch) gained at least
        ``max_new_commits`` commits since promobot last wrote it. Cheap when nothing is to
        do: a file read and, at most, one ``rev-list --count``. Returns True when it wrote.
        """
        if self.is_shallow():
            return False
        tip = self.resolve(ref or self.default_branch)
        if tip is None:
            return False
        stamp = self.git_dir / "promobot" / "commit-graph-tip"
        graph = _latest_graph_file(self.git_dir / "objects" / "info")
        if graph is not None and _has_bloom_filters(graph) and stamp.is_file():
            old = stamp.read_text().strip()
            if old == tip:
                return False
            counted = self._run(["rev-list", "--count", f"{old}..{tip}", "--"], check=False)
            if counted.returncode == 0 and int(counted.out.strip() or "0") < max_new_commits:
                return False
        self._run(["commit-graph", "write", "--reachable", "--changed-paths"])
        stamp.parent.mkdir(exist_ok=True)
        stamp.write_text(tip + "\n")
        return True


def _latest_graph_file(info: Path) -> Path | None:
    chain = info / "commit-graphs" / "commit-graph-chain"
    if chain.is_file():
        lines = chain.read_text().split()
        if lines:
            return info / "commit-graphs" / f"graph-{lines[-1]}.graph"
    single = info / "commit-graph"
    return single if single.is_file() else None


def _has_bloom_filters(graph: Path) -> bool:
    """True when the commit-graph file has the BIDX/BDAT (changed-path Bloom filter) chunks."""
    try:
        with graph.open("rb") as fh:
            header = fh.read(8)
            if len(header) < 8 or header[:4] != b"CGPH":
                return False
            table = fh.read(12 * (header[6] + 1))
    except OSError:
        return False
    ids = {table[i : i + 4] for i in range(0, len(table), 12)}
    return b"BIDX" in ids and b"BDAT" in ids


HISTORY_FORMAT = "promobot-history"
HISTORY_VERSION = 3
"""Bumped whenever what a cached log means changes (its fields, or how a log is parsed).
3 keeps the entries themselves, one JSON list per field (2 kept the parsed commits, which every
warm ``history`` turned into entries again: issue #16)."""
HISTORY_MAX_FILES = 512
"""More cached histories than this in ``.git/promobot/history/``: the older half is removed."""


class _CachedHistory(NamedTuple):
    """A history read at ``tip``: its entries, newest first, and the manifest path of each."""

    tip: str
    paths: list[str]
    entries: list[HistoryEntry]


_ACTIONS = frozenset({"promote", "rollback", "manual"})
_STR: frozenset[type] = frozenset({str})
_STR_OR_NONE: frozenset[type] = frozenset({str, type(None)})
_INT: frozenset[type] = frozenset({int})
_INT_OR_NONE: frozenset[type] = frozenset({int, type(None)})
_LIST: frozenset[type] = frozenset({list})


def _history_file_name(targets: Mapping[str, tuple[str, str]]) -> str:
    """``<first model>-<crc32 of the paths>.json``: readable, and a clash (two path sets with the
    same name) is only a cache miss, because the file records its paths and they are compared."""
    key = "\n".join(sorted(targets)).encode()
    return f"{min(model for _, model in targets.values())}-{zlib.crc32(key):08x}.json"


def _typed(column: Iterable[object], types: frozenset[type]) -> bool:
    """Every value of ``column`` is exactly of one of ``types`` (``type()``: a bool is no int)."""
    return set(map(type, column)) <= types


def _load_history(file: Path, targets: Mapping[str, tuple[str, str]]) -> _CachedHistory | None:
    """The cached history of exactly ``targets``; None unless every field has our shape.

    The file holds ``paths`` (sorted) and ``entries``, one list per field of
    :class:`HistoryEntry`, newest first (``path`` an index into ``paths``; ``at`` Unix seconds;
    ``model`` and ``env`` follow from the path). Checked a column at a time, by the types of
    its values, then built in one pass: no object per entry but the entry itself.
    """
    doc = read_json(file, fmt=HISTORY_FORMAT, version=HISTORY_VERSION)
    paths = doc.get("paths") if doc is not None else None
    if doc is None or paths != sorted(targets):
        return None
    tip, table = doc.get("tip"), doc.get("entries")
    if type(tip) is not str or _SHA_RE.fullmatch(tip) is None or type(table) is not dict:
        return None
    found = [table.get(name) for name in _HISTORY_COLUMNS]
    if any(type(column) is not list for column in found):
        return None
    columns = cast(list[list[Any]], found)
    if len({len(column) for column in columns}) != 1:
        return None
    where, shas, ats, actions, versions, before, subjects, authors, prs, approved, reverts, froms, checks = (
        columns
    )
    if not (
        _typed(shas, _STR)
        and all(map(_SHA_RE.fullmatch, shas))
        and _typed(where, _INT)
        and (not where or (min(where) >= 0 and max(where) < len(paths)))
        and _typed(ats, _INT)
        and _typed(actions, _STR)
        and set(actions) <= _ACTIONS
        and _typed(subjects, _STR)
        and _typed(authors, _STR)
        and _typed(prs, _INT_OR_NONE)
        and _typed(approved, _LIST)
        and _typed(chain.from_iterable(approved), _STR)
        and all(_typed(column, _STR_OR_NONE) for column in (versions, before, reverts, froms, checks))
    ):
        return None
    try:
        times = list(map(datetime.fromtimestamp, ats, repeat(UTC)))
    except (OverflowError, OSError, ValueError):  # a time no datetime can hold
        return None
    parts = [targets[path] for path in paths]
    envs, models = [parts[i][0] for i in where], [parts[i][1] for i in where]
    # Positional, in HistoryEntry's field order, by map(): no Python frame per entry but the
    # entry's own __init__ (the tests compare every cached history with a fresh one).
    entries = list(
        map(
            HistoryEntry, shas, times, actions, models, envs, versions, before, subjects, authors, prs,
            map(tuple, approved), reverts, froms, checks,
        )
    )  # fmt: skip
    return _CachedHistory(tip, [paths[i] for i in where], entries)


_HISTORY_COLUMNS = (
    "path", "sha", "at", "action", "version", "previous_version", "subject", "author", "pr",
    "approved_by", "rollback_of", "from", "verification",
)  # fmt: skip


def _versions(paths: Sequence[str], entries: Sequence[HistoryEntry]) -> dict[str, str | None]:
    """Each path's version after the newest of ``entries`` (what ``_entries`` carries forward)."""
    state: dict[str, str | None] = {}
    for path, entry in zip(paths, entries, strict=True):
        if path not in state:
            state[path] = entry.version
    return state


def _save_history(file: Path, history: _CachedHistory, targets: Mapping[str, object], *, new: bool) -> None:
    paths = sorted(targets)
    index = {path: i for i, path in enumerate(paths)}
    entries = history.entries
    columns = {
        "path": [index[path] for path in history.paths],
        "sha": [e.sha for e in entries],
        "at": [int(e.at.timestamp()) for e in entries],
        "action": [e.action for e in entries],
        "version": [e.version for e in entries],
        "previous_version": [e.previous_version for e in entries],
        "subject": [e.subject for e in entries],
        "author": [e.author for e in entries],
        "pr": [e.pr for e in entries],
        "approved_by": [list(e.approved_by) for e in entries],
        "rollback_of": [e.rollback_of for e in entries],
        "from": [e.from_env for e in entries],
        "verification": [e.verification for e in entries],
    }
    assert tuple(columns) == _HISTORY_COLUMNS
    if new:
        _prune_history(file.parent)
    write_json(
        file,
        {"tip": history.tip, "paths": paths, "entries": columns},
        fmt=HISTORY_FORMAT,
        version=HISTORY_VERSION,
    )


def _prune_history(folder: Path) -> None:
    """Keep at most ``HISTORY_MAX_FILES`` cached histories: drop the least recently written half."""
    try:
        files = [e for e in os.scandir(folder) if e.name.endswith(".json")]
        if len(files) < HISTORY_MAX_FILES:
            return
        files.sort(key=lambda e: e.stat().st_mtime_ns)
        for entry in files[: len(files) // 2]:
            Path(entry.path).unlink(missing_ok=True)
    except OSError:  # a missing or read-only folder: nothing to prune
        pass


def _log_args(revs: Sequence[str], pathspecs: Sequence[str], *, order: bool = True) -> list[str]:
    """The argv of ``git log`` that history parses (``_parse_log``): REVS, limited to PATHSPECS,
    in graph order (``--topo-order``) unless ``order`` is False (the caller orders the commits).

    ``core.deltaBaseCacheLimit=8m``: a ``log -p`` over a manifest reads the same folder's tree at
    each commit, one delta from the next. git's default 96 MB cache of delta bases makes it
    touch ~120 MB of fresh memory for that; 8 MB keeps what the next tree needs and the log
    takes 40 % less time with a commit-graph, 15–20 % less without one (benchmarks/README.md,
    "Cold history: git's delta cache"; the output is the same)."""
    return [
        "-c", "log.follow=false", "-c", "log.showSignature=false", "-c", "core.quotePath=false",
        "-c", "core.deltaBaseCacheLimit=8m",
        "log", *(["--topo-order"] if order else []), f"--format={_LOG_FORMAT}", "-p", "--unified=0",
        "--no-ext-diff", "--no-textconv", "--no-color", "--no-renames", "--diff-merges=first-parent",
        "--src-prefix=a/", "--dst-prefix=b/", *revs, "--", *pathspecs,
    ]  # fmt: skip


def _parse_log(out: str, paths: set[str]) -> list[_LogCommit]:
    fields = out.split("\0")
    commits = []
    for i in range(1, len(fields) - 5, 6):
        sha, at, author, subject, trailers, diff = fields[i : i + 6]
        pairs = [t.partition(":")[::2] for t in trailers.strip().split("\x01") if t]
        commits.append(
            _LogCommit(
                sha.strip(), int(at), author, subject, collect_trailers(pairs), _parse_diff(diff, paths)
            )
        )
    return commits


def _parse_diff(diff: str, paths: set[str]) -> tuple[_FileChange, ...]:
    """The version change of each of ``paths`` in one commit's ``--unified=0`` patch."""
    changes: list[_FileChange] = []
    for section in diff.split("diff --git a/")[1:]:
        header, _, rest = section.partition("\n")
        path = header.partition(" b/")[0]
        if path not in paths or header != f"{path} b/{path}":
            continue
        change = _FileChange(path)
        meta, _, hunks = rest.partition("\n@@")
        change.created = "new file mode" in meta
        change.deleted = "deleted file mode" in meta
        for sign, value in _DIFF_VERSION_RE.findall(hunks):
            if sign == "-":
                change.old, change.saw_old = _yaml_scalar(value), True
            else:
                change.new, change.saw_new = _yaml_scalar(value), True
        changes.append(change)
    return tuple(changes)


def _entries(
    commits: list[_LogCommit],
    targets: Mapping[str, tuple[str, str]],
    state: dict[str, str | None] | None = None,
    where: list[str] | None = None,
) -> list[HistoryEntry]:
    """The entries of ``commits`` (newest first), the version of each path carried forward from
    ``state`` (each path's version before the oldest commit: none, or a cached history's); with
    ``where``, the path of each entry is appended to it in the same order."""
    state = {} if state is None else state
    rows: list[HistoryEntry] = []
    paths: list[str] = []
    for commit in reversed(commits):  # oldest first, to carry the version forward
        trailers = commit.trailers
        for change in commit.changes:
            env, model = targets[change.path]
            mine = trailers.get(MODEL, model) == model and trailers.get(TO, env) == env
            tr = trailers if mine else {}
            known = state.get(change.path)
            previous = change.old if change.saw_old else None if change.created else known
            if change.saw_new:
                version = change.new
            elif change.deleted or change.saw_old:
                version = None
            else:
                version = previous
            if version is None and not change.deleted:
                version = tr.get(VERSION)
            if previous is None and not change.created:
                previous = tr.get(PREVIOUS_VERSION)
            state[change.path] = version
            raw_action = tr.get(ACTION, "").strip().lower()
            action: Literal["promote", "rollback", "manual"] = (
                "promote" if raw_action == "promote" else "rollback" if raw_action == "rollback" else "manual"
            )
            pr_text = tr.get(PR, "").strip().lstrip("#")
            pr_match = _PR_SUFFIX_RE.search(commit.subject)
            pr = int(pr_text) if pr_text.isdigit() else int(pr_match.group(1)) if pr_match else None
            approved = tuple(a.strip() for a in tr.get(APPROVED_BY, "").split(",") if a.strip())
            rows.append(
                HistoryEntry(
                    sha=commit.sha,
                    at=datetime.fromtimestamp(commit.at, tz=UTC),
                    action=action,
                    model=model,
                    env=env,
                    version=version,
                    previous_version=previous,
                    subject=commit.subject,
                    author=commit.author,
                    pr=pr,
                    approved_by=approved,
                    rollback_of=tr.get(ROLLBACK_OF) or None,
                    from_env=tr.get(FROM) or None,
                    verification=tr.get(VERIFICATION) or None,
                )
            )
            paths.append(change.path)
    rows.reverse()
    if where is not None:
        where += reversed(paths)
    return rows


class GitFolder:
    """A folder that ``promobot init`` makes a GitOps repository: ``git init`` when needed,
    the files, one commit of exactly them (``NewRepository`` port).

    All or nothing: files are created exclusively (an existing file is never touched), and
    on any failure the files written, the folders made and a repository it created are
    removed again. The commit skips the repository's commit hooks (the files are promobot's
    own, and a pre-commit hook installed for the new config must not fetch anything);
    identity as for ``GitWorkspace.commit``.
    """

    def __init__(self, root: Path, *, commit_date: datetime | None = None) -> None:
        self.root = Path(root)
        self.commit_date = commit_date

    @property
    def path(self) -> str:
        return str(self.root)

    def _probe(self) -> Path | None:
        """The folder, or its nearest existing ancestor (git runs there)."""
        probe = self.root.absolute()
        while not probe.is_dir():
            if probe.exists() or probe.parent == probe:
                return None
            probe = probe.parent
        return probe

    def enclosing_repository(self) -> str | None:
        probe = self._probe()
        if probe is None:
            return None
        result = _spawn(["rev-parse", "--show-toplevel"], cwd=probe)
        return result.out.strip() or None if result.returncode == 0 else None

    def is_repository(self) -> bool:
        top = self.enclosing_repository()
        return top is not None and Path(top).resolve() == self.root.resolve()

    def branch(self) -> str:
        if self.is_repository():
            result = _spawn(["symbolic-ref", "--short", "-q", "HEAD"], cwd=self.root)
            if result.returncode == 0 and result.out.strip():
                return result.out.strip()
            raise UsageError(
                f"{self.root} has a detached HEAD",
                "check out the branch the GitOps repository should live on, then re-run promobot init",
            )
        probe = self._probe() or Path()
        configured = _spawn(["config", "--get", "init.defaultBranch"], cwd=probe)
        return configured.out.strip() or "main" if configured.returncode == 0 else "main"

    def existing(self, paths: Sequence[str]) -> list[str]:
        found: dict[str, None] = {}
        for path in paths:
            parts = Path(path).parts
            for depth in range(1, len(parts) + 1):
                rel = "/".join(parts[:depth])
                full = self.root / rel
                last = depth == len(parts)
                if full.is_symlink() or (full.exists() and (last or not full.is_dir())):
                    found[rel] = None
                    break
        return list(found)

    def _git(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> _Result:
        result = _spawn(args, cwd=self.root, env=env)
        if result.returncode != 0:
            raise _error_for(args, result)
        return result

    def create(self, files: Mapping[str, bytes], *, executable: Iterable[str], message: str) -> str:
        for path in files:
            _check_path(path)
        run_x = set(executable)
        made_dirs: list[Path] = []
        written: list[Path] = []
        init_here = not self.is_repository()
        branch = self.branch()
        had_git = (self.root / ".git").exists() or (self.root / ".git").is_symlink()
        try:
            for folder in reversed([self.root.absolute(), *self.root.absolute().parents]):
                if not folder.exists():
                    folder.mkdir()
                    made_dirs.append(folder)
            if init_here:
                self._git(["init", "-q", "-b", branch])
            for path, data in files.items():
                target = self.root / path
                for folder in reversed(target.parents):
                    if not folder.exists():
                        folder.mkdir()
                        made_dirs.append(folder)
                with open(target, "xb") as handle:
                    written.append(target)
                    handle.write(data)
                if path in run_x:
                    target.chmod(0o755)
            paths = sorted(files)
            self._git(["add", "-f", "--", *paths])
            ws = GitWorkspace(self.root)
            ws.commit_date = self.commit_date
            self._git(
                ["commit", "-q", "--no-verify", "--only", "-m", message, "--", *paths],
                env=ws._ident_env(None),
            )
            return self._git(["rev-parse", "HEAD"]).out.strip()
        except BaseException:
            self._undo(files, written, made_dirs, init_here=init_here and not had_git)
            raise

    def _undo(
        self, files: Mapping[str, bytes], written: list[Path], made: list[Path], *, init_here: bool
    ) -> None:
        if not init_here and written:
            _spawn(["reset", "-q", "--", *sorted(files)], cwd=self.root)  # unstage what was added
        if init_here:
            import shutil

            shutil.rmtree(self.root / ".git", ignore_errors=True)
        for path in reversed(written):
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

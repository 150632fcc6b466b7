"""The emulator's real bare git repository: every ref, commit and merge is git's own.

Owns the subprocess calls (argv lists only) the emulator makes: resolving refs,
compare-and-swap ref updates, reading commits, blobs and trees, diffs, and writing
squash/merge commits with ``git merge-tree --write-tree`` + ``git commit-tree``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ZERO_SHA = "0" * 40


class GitError(Exception):
    """A git command failed; ``stderr`` says why."""


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    date: int  # unix time


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    status: str  # added, removed, modified, renamed
    additions: int
    deletions: int
    blob: str


_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "T": "changed", "C": "copied"}


class GitRepo:
    """A bare repository at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._refs: dict[str, str] | None = None
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        }

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            capture_output=True,
            text=True,
            env={**self._env, **(env or {})},
            check=False,
        )
        if check and proc.returncode != 0:
            raise GitError(f"git {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def init(self, default_branch: str) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "init", "--quiet", "--bare", f"--initial-branch={default_branch}", str(self.path)],
            check=True,
            env=self._env,
            capture_output=True,
        )

    def resolve(self, ref: str) -> str | None:
        """Commit SHA of ``ref`` (a full ref name, branch or SHA), or None."""
        out = self.run(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}", check=False
        )
        return out.strip() or None

    def branch_sha(self, branch: str) -> str | None:
        return self.ref_sha(f"refs/heads/{branch}")

    def ref_sha(self, full_ref: str) -> str | None:
        if self._refs is not None and full_ref.startswith("refs/"):
            return self._refs.get(full_ref)
        out = self.run("rev-parse", "--verify", "--quiet", "--end-of-options", full_ref, check=False)
        return out.strip() or None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Read every ref once (one process) and answer ``ref_sha`` from that until the block
        ends or the emulator moves a ref itself. For one request, under the state lock: with
        1,000 open PRs a request would otherwise start a ``git rev-parse`` per PR."""
        self._refs = dict(self.refs("refs/"))
        try:
            yield
        finally:
            self._refs = None

    def refs(self, prefix: str = "refs/") -> list[tuple[str, str]]:
        out = self.run("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        return [(name, sha) for name, sha in (line.split(" ", 1) for line in out.splitlines())]

    def update_ref(self, full_ref: str, new: str, *, old: str | None) -> bool:
        """Compare-and-swap: ``old`` None means "must not exist yet". False when it lost."""
        self._refs = None
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), "update-ref", full_ref, new, old or ZERO_SHA],
            capture_output=True,
            text=True,
            env=self._env,
            check=False,
        )
        return proc.returncode == 0

    def delete_ref(self, full_ref: str, *, old: str) -> bool:
        self._refs = None
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), "update-ref", "-d", full_ref, old],
            capture_output=True,
            env=self._env,
            check=False,
        )
        return proc.returncode == 0

    def commit(self, sha: str) -> CommitInfo:
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B"
        out = self.run("show", "-s", f"--format={fmt}", sha)
        parts = out.split("\x00", 9)
        return CommitInfo(
            sha=parts[0],
            tree=parts[1],
            parents=tuple(parts[2].split()),
            author=Person(parts[3], parts[4], int(parts[5])),
            committer=Person(parts[6], parts[7], int(parts[8])),
            message=parts[9].rstrip("\n"),
        )

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), "merge-base", "--is-ancestor", ancestor, descendant],
            env=self._env,
            capture_output=True,
            check=False,
        )
        return proc.returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        return self.run("merge-base", a, b, check=False).strip() or None

    def rev_list(self, spec: str) -> list[str]:
        """Commits of ``spec`` (e.g. ``base..head``), oldest first."""
        return self.run("rev-list", "--reverse", spec).split()

    def count(self, spec: str) -> int:
        return int(self.run("rev-list", "--count", spec).strip())

    def merge_tree(self, ours: str, theirs: str) -> str | None:
        """The tree of merging ``theirs`` into ``ours``, or None on a conflict."""
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), "merge-tree", "--write-tree", ours, theirs],
            capture_output=True,
            text=True,
            env=self._env,
            check=False,
        )
        if proc.returncode != 0:
            return None
        return proc.stdout.split("\n", 1)[0].strip()

    def commit_tree(
        self, tree: str, parents: list[str], message: str, *, author: Person, committer: Person
    ) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": f"{author.date} +0000",
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": f"{committer.date} +0000",
        }
        return self.run(*args, "-m", message, env=env).strip()

    def object_type(self, spec: str) -> str | None:
        return self.run("cat-file", "-t", spec, check=False).strip() or None

    def object_id(self, spec: str) -> str | None:
        return self.run("rev-parse", "--verify", "--quiet", spec, check=False).strip() or None

    def read_blob(self, sha: str) -> bytes:
        proc = subprocess.run(
            ["git", "--git-dir", str(self.path), "cat-file", "blob", sha],
            capture_output=True,
            env=self._env,
            check=True,
        )
        return proc.stdout

    def list_tree(self, treeish: str) -> list[tuple[str, str, str, int]]:
        """``(type, sha, name, size)`` for the entries directly in ``treeish``."""
        out = self.run("ls-tree", "--long", "-z", treeish)
        entries = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, name = record.split("\t", 1)
            _mode, kind, sha, size = meta.split()
            entries.append((kind, sha, name, int(size) if size != "-" else 0))
        return entries

    def diff(self, base: str, head: str) -> list[FileChange]:
        numstat: dict[str, tuple[int, int]] = {}
        for line in self.run("diff", "--numstat", "--no-renames", base, head).splitlines():
            adds, dels, path = line.split("\t", 2)
            numstat[path] = (int(adds) if adds != "-" else 0, int(dels) if dels != "-" else 0)
        changes = []
        for line in self.run("diff", "--raw", "--no-renames", "--no-abbrev", base, head).splitlines():
            meta, path = line.split("\t", 1)
            fields = meta.split()
            status, new_blob, old_blob = fields[4], fields[3], fields[2]
            added, deleted = numstat.get(path, (0, 0))
            blob = old_blob if status == "D" else new_blob
            changes.append(FileChange(path, _STATUS.get(status[0], "modified"), added, deleted, blob))
        return changes

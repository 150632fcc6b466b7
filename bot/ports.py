"""The ports promobot acts through, in its own words.

``Forge`` is where pull requests, reviews, comments and checks live (GitHub, or the
local forge kept in ``.git/``). ``Workspace`` is the git repository that holds the
environments. ``GateRunner`` runs the gates that reach outside (artifacts, commands,
Prometheus: reference §3, §15), ``Cache`` keeps read-only results in ``.git/promobot/``,
``NewRepository`` is the folder ``promobot init`` writes (reference §17) and ``Registry``
is MLflow's model registry (reference §16). Adapters satisfy these structurally; nothing
here knows PyGithub or GitPython.

GitHub's semantics are the reference: checks are keyed by (name, head SHA), reviews
carry the ``commit_id`` they were given on, comments have ids, and a merge passes the
head SHA it evaluated so that a moved head refuses the merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.core.model import (
    CheckRun,
    Comment,
    Deployment,
    DeploymentState,
    GateOutcome,
    HistoryEntry,
    Permission,
    PullRequest,
    PullState,
    Review,
)

if TYPE_CHECKING:
    from bot.core.gate_inputs import ArtifactCheck, CommandOutcome
    from bot.core.policy_model import CommandGate
    from bot.core.promql import Evidence, PrometheusGate
    from bot.core.providers import PrometheusProvider
    from bot.core.registry import ModelVersion, Run


class Forge(Protocol):
    """Pull requests, reviews, comments, checks, labels and permissions."""

    @property
    def bot_login(self) -> str:
        """The login promobot acts as on this forge (its own comments are ignored)."""
        ...

    def rate_budget(self) -> tuple[int, datetime] | None:
        """(requests left, when the window resets) as last reported, or None: no limit known
        (the local forge has none). Never makes a request."""
        ...

    def transaction(self) -> AbstractContextManager[object]:
        """Hold the forge for one use case (the local forge locks its state file; GitHub: no-op)."""
        ...

    def find_pr(self, head_branch: str, *, state: PullState | None = "open") -> PullRequest | None:
        """The newest PR whose head is ``head_branch`` (any state when ``state`` is None)."""
        ...

    def get_pr(self, number: int) -> PullRequest:
        """Raises ``NotApplicable`` when there is no such PR (an event may name one that is gone)."""
        ...

    def list_prs(self, *, state: PullState | None = "open") -> list[PullRequest]:
        """Every PR in ``state`` (all when None), lowest number first, all pages read."""
        ...

    def open_pr(self, *, head: str, base: str, title: str, body: str, labels: Sequence[str]) -> PullRequest:
        """Open a PR; when one is already open for ``head`` → ``base`` (another run opened it a
        moment ago), adopt it: its title and body become these, the labels are added."""
        ...

    def update_pr(self, number: int, *, title: str | None = None, body: str | None = None) -> None: ...

    def add_labels(self, number: int, labels: Sequence[str]) -> None: ...

    def remove_label(self, number: int, label: str) -> None:
        """Removing a label that is not there is not an error."""
        ...

    def set_check(
        self,
        *,
        head_sha: str,
        name: str,
        result: GateOutcome,
        title: str,
        summary: str,
        record: str | None = None,
    ) -> None:
        """Create the check ``name`` on ``head_sha``, or update it in place if it exists.

        ``record`` (when not None) is stored with the check where only promobot's own
        credentials can write it (GitHub: the check run's ``external_id``); an update without
        ``record`` keeps the one already there.
        """
        ...

    def list_checks(self, head_sha: str) -> list[CheckRun]: ...

    def list_deployments(self, *, environment: str, task: str) -> list[Deployment]:
        """Deployments of ``task`` to ``environment``, newest first (the newest 100 at most)."""
        ...

    def create_deployment(
        self, *, sha: str, environment: str, task: str, description: str, payload: Mapping[str, str]
    ) -> Deployment:
        """A deployment of commit ``sha`` (never a branch: nothing is merged, no status is required)."""
        ...

    def deployment_state(self, deployment_id: int) -> str | None:
        """The newest status of the deployment (None when it has none)."""
        ...

    def set_deployment_state(self, deployment_id: int, state: DeploymentState, description: str) -> None:
        """Add a status to the deployment (never inactivating other deployments as a side effect)."""
        ...

    def list_reviews(self, number: int) -> list[Review]:
        """Every review in submission order, all pages read."""
        ...

    def list_comments(self, number: int) -> list[Comment]:
        """Every comment in creation order, all pages read."""
        ...

    def comment(self, number: int, body: str) -> Comment: ...

    def react(self, comment_id: int, reaction: str) -> None:
        """``reaction`` is GitHub's content name: ``eyes``, ``rocket``, ``confused``."""
        ...

    def permission(self, login: str) -> Permission:
        """The user's repository permission (collaborator-permission API, never author_association)."""
        ...

    def team_members(self, team: str) -> frozenset[str]:
        """Lower-cased logins of ``@org/team``; raises ``ForgeError`` when it cannot be resolved."""
        ...

    def pushers(self, number: int) -> frozenset[str]:
        """Lower-cased logins of the authors/committers of the PR's commits (the bot included)."""
        ...

    def merge(self, number: int, *, sha: str, title: str, message: str) -> str:
        """Squash-merge; ``sha`` is the head that was evaluated. Returns the merge commit SHA.

        Raises ``ConflictError`` when the head moved or the merge cannot be made.
        """
        ...

    def close(self, number: int) -> None: ...

    def delete_branch(self, branch: str) -> None:
        """Deleting a branch that does not exist is not an error."""
        ...


class Workspace(Protocol):
    """The git repository holding ``environments/`` (a checkout, possibly with a remote)."""

    @property
    def default_branch(self) -> str: ...

    def resolve(self, ref: str) -> str | None:
        """The commit SHA ``ref`` names, or None."""
        ...

    def read(self, ref: str, path: str) -> bytes | None:
        """File content at ``ref`` without checking anything out; None when absent."""
        ...

    def read_many(self, ref: str, paths: Sequence[str]) -> dict[str, bytes | None]:
        """``read`` of several files in one go (one git process)."""
        ...

    def list_dir(self, ref: str, path: str) -> list[str]:
        """Names of the files directly in ``path`` at ``ref`` (empty when absent)."""
        ...

    def blob_ids(self, ref: str, path: str) -> dict[str, str]:
        """``{file path: blob id}`` for every file under ``path`` at ``ref``."""
        ...

    def tree_id(self, ref: str, path: str) -> str | None:
        """The id of the tree ``path`` at ``ref`` (None when absent): equal ids, equal contents."""
        ...

    def read_blobs(self, ids: Iterable[str]) -> dict[str, bytes]:
        """Contents of many blobs at once (one git process)."""
        ...

    def commit_message(self, sha: str) -> str: ...

    def merge_base(self, a: str, b: str) -> str | None: ...

    def commit_authors(self, base: str, head: str) -> dict[str, str]:
        """``{sha: "author name\\0committer name"}`` for the commits in ``base..head``."""
        ...

    def changed_files(self, base: str, head: str) -> list[str]:
        """Repository paths whose content differs between the trees of ``base`` and ``head``."""
        ...

    def commit(
        self,
        *,
        parent: str,
        files: Mapping[str, bytes | None],
        message: str,
        author: str | None = None,
    ) -> str:
        """Write a commit on top of ``parent`` changing ``files`` (None deletes); no checkout.

        Returns the new commit SHA; no ref moves.
        """
        ...

    def update_branch(self, branch: str, sha: str, *, expected: str | None, force: bool = False) -> None:
        """Move (or create, with ``expected=None``) ``branch`` to ``sha``.

        Without ``force`` the move must be a fast-forward; with ``expected`` it is refused
        with ``ConflictError`` if the branch is not at ``expected`` any more (compare-and-swap).
        ``force`` is only ever used for promobot-owned branches, never the default branch.
        """
        ...

    def delete_branch(self, branch: str) -> None: ...

    def history(self, path: str, *, ref: str) -> list[HistoryEntry]:
        """Commits on ``ref`` that changed ``path``, newest first (graph order), trailers parsed."""
        ...

    def history_many(
        self, paths: Sequence[str], *, ref: str, cached: bool = False, under: str | None = None
    ) -> list[HistoryEntry]:
        """``history`` of several paths merged in graph order (one entry per path a commit changed).

        ``cached`` lets a read-only command reuse a validated on-disk cache of the log;
        decisions never pass it. ``under``: one folder pathspec for all of the paths (fast
        for thousands of them).
        """
        ...

    def commit_time(self, sha: str) -> int:
        """Committer time of ``sha`` as a Unix timestamp."""
        ...

    def is_ancestor(self, ancestor: str, descendant: str) -> bool: ...

    def commits_between(self, base: str, head: str) -> list[str]:
        """SHAs in ``base..head``."""
        ...

    def refresh(self) -> None:
        """Re-read the remote's branches (remote mode); nothing for a local checkout."""
        ...

    def ensure_history(self, path: str | None = None) -> None:
        """Make the whole history readable (deepen a shallow clone), or raise ``WorkspaceError``
        saying how to fix the checkout."""
        ...


class GateRunner(Protocol):
    """The gates that reach outside: artifact fetches, custom commands, live data (Prometheus)."""

    def verify_artifact(
        self, uri: str, digest: str, *, max_bytes: int, timeout: float, ref: str | None = None
    ) -> ArtifactCheck:
        """Hash the artifact; a repository ``file:`` artifact is read at commit ``ref``."""
        ...

    def run_command(
        self,
        gate: CommandGate,
        *,
        base_sha: str,
        manifest: Mapping[str, Any],
        model: str,
        from_env: str,
        to_env: str,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandOutcome:
        """Run ``gate`` from a checkout of ``base_sha`` (never the PR's code); ``extra_env``
        (``PROMOBOT_*`` of a verification check) is added to its environment."""
        ...

    def prometheus(
        self,
        provider: PrometheusProvider,
        gate: PrometheusGate,
        query: str,
        traffic_query: str | None,
        *,
        start: float,
        end: float,
    ) -> Evidence | str:
        """Run one prometheus gate's rendered queries over ``[start, end]`` (unix seconds).

        An outage (or a provider variable that is not set) is ``Evidence.error``: pending.
        A query Prometheus refuses comes back as a string, the gate's failure reason.
        """
        ...


class Cache(Protocol):
    """A persistent key-value cache for read-only commands (parsed manifests keyed by blob id).

    Values are JSON data (tuples come back as lists) and may come from elsewhere: whoever
    reads one checks its shape and treats a malformed value as a miss. Decisions (promote,
    gates, rollback) never read it.
    """

    def get(self, key: str) -> Any | None: ...

    def put(self, key: str, value: Any) -> None: ...

    def flush(self) -> None: ...


class NewRepository(Protocol):
    """A folder that ``promobot init`` makes a GitOps repository (all or nothing)."""

    @property
    def path(self) -> str:
        """The folder, as the user named it."""
        ...

    def enclosing_repository(self) -> str | None:
        """The top level of the git work tree that holds the folder, or None."""
        ...

    def is_repository(self) -> bool:
        """Whether the folder is the top level of a git work tree."""
        ...

    def branch(self) -> str:
        """The branch the first commit goes on (the current one, or the one ``git init`` will make)."""
        ...

    def existing(self, paths: Sequence[str]) -> list[str]:
        """Those of ``paths`` (or their parent folders) that already exist as something else."""
        ...

    def create(self, files: Mapping[str, bytes], *, executable: Iterable[str], message: str) -> str:
        """``git init`` when needed, write ``files``, commit exactly them; undo it all on failure.

        Returns the commit's SHA.
        """
        ...


class Registry(Protocol):
    """A model registry (MLflow) that follows git: README "Keep MLflow in step".

    Reads return None for "not there"; an unreachable registry raises ``RegistryUnavailable``
    and a refusal ``RegistryError``. No method retries: a re-run is the retry.
    """

    def model_version(self, model: str, version: str) -> ModelVersion | None: ...

    def run(self, run_id: str) -> Run | None: ...

    def alias(self, model: str, alias: str) -> ModelVersion | None: ...

    def aliases(self, model: str) -> dict[str, str] | None:
        """alias → version for every alias of ``model`` (None: no such registered model)."""
        ...

    def set_alias(self, model: str, alias: str, version: str) -> None: ...

    def delete_alias(self, model: str, alias: str) -> None: ...

    def set_version_tag(self, model: str, version: str, key: str, value: str) -> None: ...

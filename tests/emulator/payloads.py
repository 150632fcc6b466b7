"""JSON bodies the emulator answers with, built from state by small factories.

Owns the shape of every object (user, repository, pull request, issue, review,
comment, reaction, label, check run, status, commit, ref, content, team): complete
enough to satisfy GitHub's documented response schemas, with URLs pointing back at
the emulator so that PyGithub follows them here.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from tests.emulator.gitrepo import CommitInfo, FileChange
from tests.emulator.state import (
    PERMISSIONS,
    REACTIONS,
    App,
    CheckRun,
    Comment,
    Deployment,
    DeploymentStatus,
    Label,
    Pull,
    Reaction,
    RepoState,
    Review,
    Status,
    Team,
    User,
)

Json = dict[str, Any]

_REPO_URL_TEMPLATES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


def iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"{kind}:{ident}".encode()).decode().rstrip("=")


class Render:
    """Factories bound to one emulator's state and base URLs."""

    def __init__(self, state: RepoState, *, api: str, web: str) -> None:
        self.s = state
        self.api = api
        self.web = web

    @property
    def repo_api(self) -> str:
        return f"{self.api}/repos/{self.s.full_name}"

    @property
    def repo_web(self) -> str:
        return f"{self.web}/{self.s.full_name}"

    # ------------------------------------------------------------------ users
    def user(self, login: str | User) -> Json:
        user = login if isinstance(login, User) else self.s.user(login)
        url = f"{self.api}/users/{user.login}"
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id("User", user.id),
            "avatar_url": f"{self.web}/avatars/u/{user.id}",
            "gravatar_id": "",
            "url": url,
            "html_url": f"{self.web}/{user.login}",
            "followers_url": f"{url}/followers",
            "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}",
            "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions",
            "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events",
            "type": user.type,
            "site_admin": False,
            "user_view_type": "public",
        }

    def full_user(self, login: str, *, private: bool) -> Json:
        data = self.user(login)
        data.update(
            {
                "name": login,
                "company": None,
                "blog": "",
                "location": None,
                "email": None,
                "hireable": None,
                "bio": None,
                "public_repos": 0,
                "public_gists": 0,
                "followers": 0,
                "following": 0,
                "created_at": iso(self.s.clock),
                "updated_at": iso(self.s.clock),
                "user_view_type": "private" if private else "public",
            }
        )
        if private:
            data.update(
                {
                    "private_gists": 0,
                    "total_private_repos": 0,
                    "owned_private_repos": 0,
                    "disk_usage": 0,
                    "collaborators": 0,
                    "two_factor_authentication": True,
                }
            )
        return data

    def permissions(self, permission: str) -> Json:
        level = PERMISSIONS.index(permission)
        names = ("pull", "triage", "push", "maintain", "admin")
        return {name: level >= i + 1 for i, name in enumerate(names)}

    # ------------------------------------------------------------- repository
    def repository(self, *, full: bool = True) -> Json:
        s = self.s
        url = self.repo_api
        data: Json = {
            "id": s.repo_id,
            "node_id": node_id("Repository", s.repo_id),
            "name": s.name,
            "full_name": s.full_name,
            "owner": self.user(s.owner),
            "private": True,
            "html_url": self.repo_web,
            "description": s.description,
            "fork": False,
            "url": url,
        }
        data.update({key: url + suffix for key, suffix in _REPO_URL_TEMPLATES.items()})
        if not full:
            return data
        data.update(
            {
                "git_url": f"git:{self.web.split(':', 1)[1]}/{s.full_name}.git",
                "ssh_url": f"git@127.0.0.1:{s.full_name}.git",
                "clone_url": f"{self.repo_web}.git",
                "svn_url": self.repo_web,
                "mirror_url": None,
                "homepage": None,
                "language": "Python",
                "forks": 0,
                "forks_count": 0,
                "stargazers_count": 0,
                "watchers_count": 0,
                "watchers": 0,
                "size": 1,
                "default_branch": s.default_branch,
                "open_issues": sum(p.state == "open" for p in s.pulls.values()),
                "open_issues_count": sum(p.state == "open" for p in s.pulls.values()),
                "is_template": False,
                "topics": [],
                "has_issues": True,
                "has_projects": False,
                "has_wiki": False,
                "has_pages": False,
                "has_downloads": True,
                "has_discussions": False,
                "archived": False,
                "disabled": False,
                "visibility": "private",
                "license": None,
                "pushed_at": iso(s.clock),
                "created_at": iso(1700000000),
                "updated_at": iso(s.clock),
                "allow_squash_merge": True,
                "allow_merge_commit": True,
                "allow_rebase_merge": False,
                "delete_branch_on_merge": False,
                "network_count": 0,
                "subscribers_count": 0,
                "organization": self.user(s.owner),
            }
        )
        return data

    # ------------------------------------------------------------------ pulls
    def label(self, label: Label) -> Json:
        return {
            "id": label.id,
            "node_id": node_id("Label", label.id),
            "url": f"{self.repo_api}/labels/{label.name}",
            "name": label.name,
            "description": None,
            "color": label.color,
            "default": False,
        }

    def labels(self, pull: Pull) -> list[Json]:
        return [self.label(self.s.label(name)) for name in pull.labels]

    def _branch_end(self, pull: Pull, ref: str, sha: str) -> Json:
        return {
            "label": f"{self.s.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(self.s.owner),
            "repo": self.repository(),
        }

    def association(self, login: str) -> str:
        user = self.s.find_user(login)
        if user is not None and user.permission in {"write", "maintain", "admin"}:
            return "COLLABORATOR"
        return "MEMBER" if self.s.is_org_member(login) else "NONE"

    def pull(self, pull: Pull, *, full: bool) -> Json:
        s = self.s
        url = f"{self.repo_api}/pulls/{pull.number}"
        html = f"{self.repo_web}/pull/{pull.number}"
        issue = f"{self.repo_api}/issues/{pull.number}"
        head = s.head_sha(pull)
        data: Json = {
            "url": url,
            "id": pull.id,
            "node_id": node_id("PullRequest", pull.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{self.repo_api}/pulls/comments{{/number}}",
            "comments_url": f"{issue}/comments",
            "statuses_url": f"{self.repo_api}/statuses/{head}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "user": self.user(pull.user),
            "body": pull.body,
            "labels": self.labels(pull),
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.updated_at),
            "closed_at": iso(pull.closed_at),
            "merged_at": iso(pull.merged_at),
            "merge_commit_sha": pull.merge_commit_sha,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._branch_end(pull, pull.head_ref, head),
            "base": self._branch_end(pull, pull.base_ref, s.base_sha(pull)),
            "_links": {
                name: {"href": href}
                for name, href in {
                    "self": url,
                    "html": html,
                    "issue": issue,
                    "comments": f"{issue}/comments",
                    "review_comments": f"{url}/comments",
                    "review_comment": f"{self.repo_api}/pulls/comments{{/number}}",
                    "commits": f"{url}/commits",
                    "statuses": f"{self.repo_api}/statuses/{head}",
                }.items()
            },
            "author_association": self.association(pull.user),
            "auto_merge": None,
            "draft": pull.draft,
        }
        if not full:
            # pull-request-simple types a label's description as a non-null string
            for label in data["labels"]:
                label["description"] = label["description"] or ""
            return data
        base = s.base_sha(pull)
        mergeable = s.is_mergeable(pull)
        merge_base = s.git.merge_base(base, head) if base and head else None
        changes = s.git.diff(merge_base, head) if merge_base else []
        data.update(
            {
                "merged": pull.merged,
                "mergeable": mergeable,
                "rebaseable": mergeable,
                "mergeable_state": {True: "clean", False: "dirty", None: "unknown"}[mergeable]
                if not pull.draft
                else "draft",
                "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
                "comments": sum(c.issue_number == pull.number for c in s.comments.values()),
                "review_comments": 0,
                "maintainer_can_modify": False,
                "commits": s.git.count(f"{merge_base}..{head}") if merge_base else 0,
                "additions": sum(c.additions for c in changes),
                "deletions": sum(c.deletions for c in changes),
                "changed_files": len(changes),
            }
        )
        return data

    def issue(self, pull: Pull) -> Json:
        url = f"{self.repo_api}/issues/{pull.number}"
        return {
            "id": pull.id,
            "node_id": node_id("Issue", pull.id),
            "url": url,
            "repository_url": self.repo_api,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": f"{self.repo_web}/pull/{pull.number}",
            "number": pull.number,
            "state": pull.state,
            "title": pull.title,
            "body": pull.body,
            "user": self.user(pull.user),
            "labels": self.labels(pull),
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": sum(c.issue_number == pull.number for c in self.s.comments.values()),
            "pull_request": {
                "url": f"{self.repo_api}/pulls/{pull.number}",
                "html_url": f"{self.repo_web}/pull/{pull.number}",
                "diff_url": f"{self.repo_web}/pull/{pull.number}.diff",
                "patch_url": f"{self.repo_web}/pull/{pull.number}.patch",
                "merged_at": iso(pull.merged_at),
            },
            "closed_at": iso(pull.closed_at),
            "created_at": iso(pull.created_at),
            "updated_at": iso(pull.updated_at),
            "closed_by": None,
            "author_association": self.association(pull.user),
        }

    def review(self, review: Review) -> Json:
        pr_url = f"{self.repo_api}/pulls/{review.pull_number}"
        html = f"{self.repo_web}/pull/{review.pull_number}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": node_id("PullRequestReview", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pr_url,
            "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
            "submitted_at": iso(review.submitted_at),
            "commit_id": review.commit_id,
            "author_association": self.association(review.user),
        }

    # --------------------------------------------------------------- comments
    def comment(self, comment: Comment) -> Json:
        url = f"{self.repo_api}/issues/comments/{comment.id}"
        counts = {name: 0 for name in REACTIONS}
        for reaction in self.s.reactions:
            if reaction.comment_id == comment.id:
                counts[reaction.content] += 1
        return {
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "url": url,
            "html_url": f"{self.repo_web}/pull/{comment.issue_number}#issuecomment-{comment.id}",
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "issue_url": f"{self.repo_api}/issues/{comment.issue_number}",
            "author_association": self.association(comment.user),
            "reactions": {"url": f"{url}/reactions", "total_count": sum(counts.values()), **counts},
        }

    def reaction(self, reaction: Reaction) -> Json:
        return {
            "id": reaction.id,
            "node_id": node_id("Reaction", reaction.id),
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": iso(reaction.created_at),
        }

    # ----------------------------------------------------------------- checks
    def app(self, run: CheckRun) -> Json:
        app = run.app
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": node_id("App", app.id),
            "client_id": f"Iv1.{app.id:016x}",
            "owner": self.user(self.s.owner),
            "name": app.name,
            "description": None,
            "external_url": f"{self.web}/apps/{app.slug}",
            "html_url": f"{self.web}/apps/{app.slug}",
            "created_at": iso(1700000000),
            "updated_at": iso(1700000000),
            "permissions": {"checks": "write", "contents": "write", "pull_requests": "write"},
            "events": ["check_run", "pull_request"],
        }

    def installation(self, app: App) -> Json:
        """The installation of ``app`` on this repository's owner (GET repos/{o}/{r}/installation)."""
        assert app.installation_id is not None
        ident, owner = app.installation_id, self.s.user(self.s.owner)
        return {
            "id": ident,
            "account": self.user(owner),
            "repository_selection": "selected",
            "access_tokens_url": f"{self.api}/app/installations/{ident}/access_tokens",
            "repositories_url": f"{self.api}/installation/repositories",
            "html_url": f"{self.web}/organizations/{owner.login}/settings/installations/{ident}",
            "app_id": app.id,
            "client_id": app.client_id,
            "app_slug": app.slug,
            "target_id": owner.id,
            "target_type": owner.type,
            "permissions": dict(app.permissions),
            "events": ["check_run", "issue_comment", "pull_request", "pull_request_review", "push"],
            "created_at": iso(1700000000),
            "updated_at": iso(1700000000),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def check_run(self, run: CheckRun) -> Json:
        url = f"{self.repo_api}/check-runs/{run.id}"
        open_prs = [
            p for p in self.s.pulls.values() if p.state == "open" and self.s.head_sha(p) == run.head_sha
        ]
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": node_id("CheckRun", run.id),
            "external_id": run.external_id,
            "url": url,
            "html_url": f"{self.repo_web}/runs/{run.id}",
            "details_url": run.details_url,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": iso(run.started_at),
            "completed_at": iso(run.completed_at),
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": 0,
                "annotations_url": f"{url}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": run.suite_id},
            "app": self.app(run),
            "pull_requests": [self.pull_minimal(p) for p in open_prs],
        }

    def pull_minimal(self, pull: Pull) -> Json:
        repo = {"id": self.s.repo_id, "url": self.repo_api, "name": self.s.name}
        return {
            "id": pull.id,
            "number": pull.number,
            "url": f"{self.repo_api}/pulls/{pull.number}",
            "head": {"ref": pull.head_ref, "sha": self.s.head_sha(pull), "repo": repo},
            "base": {"ref": pull.base_ref, "sha": self.s.base_sha(pull), "repo": repo},
        }

    def status(self, status: Status, *, with_creator: bool = True) -> Json:
        data: Json = {
            "url": f"{self.repo_api}/statuses/{status.sha}",
            "avatar_url": None,
            "id": status.id,
            "node_id": node_id("StatusContext", status.id),
            "state": status.state,
            "description": status.description,
            "target_url": status.target_url,
            "context": status.context,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.created_at),
        }
        if with_creator:
            data["creator"] = self.user(status.creator)
        return data

    # ------------------------------------------------------------ deployments
    def deployment(self, deployment: Deployment) -> Json:
        url = f"{self.repo_api}/deployments/{deployment.id}"
        return {
            "url": url,
            "id": deployment.id,
            "node_id": node_id("Deployment", deployment.id),
            "sha": deployment.sha,
            "ref": deployment.ref,
            "task": deployment.task,
            "payload": deployment.payload,
            "original_environment": deployment.environment,
            "environment": deployment.environment,
            "description": deployment.description,
            "creator": self.user(deployment.creator),
            "created_at": iso(deployment.created_at),
            "updated_at": iso(deployment.updated_at),
            "statuses_url": f"{url}/statuses",
            "repository_url": self.repo_api,
            "transient_environment": deployment.transient_environment,
            "production_environment": deployment.production_environment,
            "performed_via_github_app": None,
        }

    def deployment_status(self, status: DeploymentStatus) -> Json:
        deployment_url = f"{self.repo_api}/deployments/{status.deployment_id}"
        return {
            "url": f"{deployment_url}/statuses/{status.id}",
            "id": status.id,
            "node_id": node_id("DeploymentStatus", status.id),
            "state": status.state,
            "creator": self.user(status.creator),
            "description": status.description,
            "environment": status.environment,
            "target_url": status.log_url,
            "log_url": status.log_url,
            "environment_url": status.environment_url,
            "created_at": iso(status.created_at),
            "updated_at": iso(status.created_at),
            "deployment_url": deployment_url,
            "repository_url": self.repo_api,
            "performed_via_github_app": None,
        }

    # ---------------------------------------------------------------- commits
    def _git_user(self, name: str, email: str, date: int) -> Json:
        return {"name": name, "email": email, "date": iso(date)}

    def _account(self, email: str) -> Json | None:
        login = self.s.login_for_email(email)
        return self.user(login) if login else None

    def commit(self, info: CommitInfo, *, files: list[FileChange] | None = None) -> Json:
        url = f"{self.repo_api}/commits/{info.sha}"
        data: Json = {
            "url": url,
            "sha": info.sha,
            "node_id": node_id("Commit", info.sha),
            "html_url": f"{self.repo_web}/commit/{info.sha}",
            "comments_url": f"{url}/comments",
            "commit": {
                "url": f"{self.repo_api}/git/commits/{info.sha}",
                "author": self._git_user(info.author.name, info.author.email, info.author.date),
                "committer": self._git_user(info.committer.name, info.committer.email, info.committer.date),
                "message": info.message,
                "comment_count": 0,
                "tree": {"sha": info.tree, "url": f"{self.repo_api}/git/trees/{info.tree}"},
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "payload": None,
                    "signature": None,
                    "verified_at": None,
                },
            },
            "author": self._account(info.author.email),
            "committer": self._account(info.committer.email),
            "parents": [
                {
                    "sha": p,
                    "url": f"{self.repo_api}/commits/{p}",
                    "html_url": f"{self.repo_web}/commit/{p}",
                }
                for p in info.parents
            ],
        }
        if files is not None:
            data["files"] = [self.file_change(c, info.sha) for c in files]
            data["stats"] = {
                "additions": sum(c.additions for c in files),
                "deletions": sum(c.deletions for c in files),
                "total": sum(c.additions + c.deletions for c in files),
            }
        return data

    def file_change(self, change: FileChange, ref: str) -> Json:
        return {
            "sha": change.blob,
            "filename": change.path,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": f"{self.repo_web}/blob/{ref}/{change.path}",
            "raw_url": f"{self.repo_web}/raw/{ref}/{change.path}",
            "contents_url": f"{self.repo_api}/contents/{change.path}?ref={ref}",
        }

    def git_ref(self, full_ref: str, sha: str) -> Json:
        return {
            "ref": full_ref,
            "node_id": node_id("Ref", full_ref),
            "url": f"{self.repo_api}/git/{full_ref}",
            "object": {"type": "commit", "sha": sha, "url": f"{self.repo_api}/git/commits/{sha}"},
        }

    def content_entry(self, path: str, kind: str, sha: str, size: int, ref: str) -> Json:
        url = f"{self.repo_api}/contents/{path}?ref={ref}"
        git_url = f"{self.repo_api}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
        html = f"{self.repo_web}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{path}"
        return {
            "type": kind,
            "size": size,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "url": url,
            "git_url": git_url,
            "html_url": html,
            "download_url": f"{self.repo_web}/raw/{ref}/{path}" if kind == "file" else None,
            "_links": {"self": url, "git": git_url, "html": html},
        }

    def content_file(self, path: str, sha: str, data: bytes, ref: str) -> Json:
        entry = self.content_entry(path, "file", sha, len(data), ref)
        encoded = base64.b64encode(data).decode()
        entry["content"] = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
        entry["encoding"] = "base64"
        return entry

    # ------------------------------------------------------------------ teams
    def organization(self) -> Json:
        s = self.s
        url = f"{self.api}/orgs/{s.owner}"
        return {
            "login": s.owner,
            "id": s.org_id,
            "node_id": node_id("Organization", s.org_id),
            "url": url,
            "repos_url": f"{url}/repos",
            "events_url": f"{url}/events",
            "hooks_url": f"{url}/hooks",
            "issues_url": f"{url}/issues",
            "members_url": f"{url}/members{{/member}}",
            "public_members_url": f"{url}/public_members{{/member}}",
            "avatar_url": f"{self.web}/avatars/o/{s.org_id}",
            "description": None,
            "html_url": f"{self.web}/{s.owner}",
            "has_organization_projects": False,
            "has_repository_projects": False,
            "public_repos": 0,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "type": "Organization",
            "created_at": iso(1700000000),
            "updated_at": iso(1700000000),
            "archived_at": None,
        }

    def team_url(self, team: Team) -> str:
        return f"{self.api}/organizations/{self.s.org_id}/team/{team.id}"

    def team(self, team: Team) -> Json:
        url = self.team_url(team)
        return {
            "id": team.id,
            "node_id": node_id("Team", team.id),
            "url": url,
            "html_url": f"{self.web}/orgs/{self.s.owner}/teams/{team.slug}",
            "name": team.name,
            "slug": team.slug,
            "description": None,
            "privacy": "closed",
            "notification_setting": "notifications_enabled",
            "permission": "pull",
            "members_url": f"{url}/members{{/member}}",
            "repositories_url": f"{url}/repos",
            "parent": None,
            "type": "organization",
            "members_count": len(team.members),
            "repos_count": 1,
            "created_at": iso(1700000000),
            "updated_at": iso(1700000000),
            "organization": self.organization(),
        }

    def membership(self, team: Team, login: str) -> Json:
        return {"url": f"{self.team_url(team)}/memberships/{login}", "role": "member", "state": "active"}

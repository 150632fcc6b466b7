"""Where things live in a GitOps repository (reference §1): the one owner of these paths.

Every manifest is ``environments/<env>/<model>.yaml``; the policy and the rejected list sit
beside the environment folders. Code that builds or reads such a path asks this module.
"""

from __future__ import annotations

ENV_DIR = "environments"
POLICY_PATH = f"{ENV_DIR}/promotion.yaml"
REJECTED_PATH = f"{ENV_DIR}/rejected.yaml"
MANIFEST_SUFFIX = ".yaml"


def manifest_path(env: str, model: str) -> str:
    """``environments/<env>/<model>.yaml``."""
    return f"{ENV_DIR}/{env}/{model}{MANIFEST_SUFFIX}"


def env_dir(env: str) -> str:
    """``environments/<env>``: the folder of one environment's manifests."""
    return f"{ENV_DIR}/{env}"


def parse_manifest_path(path: str) -> tuple[str, str] | None:
    """``(env, model)`` of ``environments/<env>/<model>.yaml``; None for any other path.

    The model part is not checked against the naming rule here: callers that act on it do.
    """
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != ENV_DIR or not parts[2].endswith(MANIFEST_SUFFIX):
        return None
    model = parts[2][: -len(MANIFEST_SUFFIX)]
    if not parts[1] or not model:
        return None
    return parts[1], model

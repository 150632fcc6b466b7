"""promobot as a GitHub App against the emulator: JWT → installation → installation token.

With ``PROMOBOT_APP_ID`` and ``PROMOBOT_APP_PRIVATE_KEY`` (and no ``GITHUB_TOKEN``),
``github_context`` signs a JWT with the App's key, finds the App's installation on the
repository, trades the JWT for an installation token, and from then on acts as
``<slug>[bot]``: its PRs, its check runs and its commits belong to the App. The
emulator verifies the JWT's RS256 signature with the App's public key and its
``iat``/``exp`` against ``jwt_clock``; nothing sleeps and nothing leaves loopback.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github, GithubException, GithubIntegration

from bot.app.promote import promote
from bot.core.model import CHECK_NAMES
from bot.errors import BotError, ForgeError, UsageError
from tests.emulator import Emulator
from tests.helpers.git import git
from tests.helpers.rig import Hub, seed_emulator

APP_ID = 424242
SLUG = "promobot"
BOT = f"{SLUG}[bot]"


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def _key_pair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(private.decode("ascii"), public.decode("ascii"))


@pytest.fixture(scope="module")
def app_key() -> KeyPair:
    return _key_pair()


@pytest.fixture(scope="module")
def other_key() -> KeyPair:
    return _key_pair()


def app_hub(emu: Emulator, tmp_path: Path, key: KeyPair, *, installed: bool = True) -> Hub:
    """The rig's hub run as the App: no ``GITHUB_TOKEN``, the App's id and key instead."""
    emu.add_app(SLUG, app_id=APP_ID, public_key=key.public_pem, installed=installed)
    seed_emulator(emu)
    (tmp_path / "work").mkdir()
    environ = {"PROMOBOT_APP_ID": str(APP_ID), "PROMOBOT_APP_PRIVATE_KEY": key.private_pem}
    hub = Hub(emu, tmp_path / "work", token=None, environ=environ)
    hub.clone = hub.checkout()
    return hub


def integration(hub: Hub, key: str) -> GithubIntegration:
    return GithubIntegration(
        auth=Auth.AppAuth(APP_ID, key),
        base_url=hub.emu.url,
        retry=None,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


@pytest.fixture
def world(github_emulator: Emulator, tmp_path: Path, app_key: KeyPair) -> Hub:
    return app_hub(github_emulator, tmp_path, app_key)


# --------------------------------------------------------------------------- the happy path


def test_an_app_promotes_as_its_bot_with_check_runs_of_its_own(world: Hub) -> None:
    ctx = world.context()

    result = promote(ctx, model="fraud-detector", to="prod")

    assert ctx.forge.bot_login == BOT
    assert ctx.bot_identity.startswith(f"{BOT} <")
    assert result.created and result.pr == 1
    state = world.emu.state
    assert state.pulls[1].user == BOT
    head = world.emu.head_sha(1)
    runs = [r for r in state.check_runs.values() if r.head_sha == head]
    assert sorted(r.name for r in runs) == sorted(CHECK_NAMES)
    assert {r.app.slug for r in runs} == {SLUG}
    assert {r.app.id for r in runs} == {APP_ID}
    ours = {c.name: c.by_promobot for c in ctx.forge.list_checks(head)}
    assert ours == dict.fromkeys(CHECK_NAMES, True)
    author = git(world.work, "--git-dir", str(world.emu.git_dir), "log", "-1", "--format=%an", head)
    assert author == BOT
    writes = [r for r in world.emu.requests if r.method != "GET" and r.template and "/repos/" in r.template]
    assert writes and {r.login for r in writes} == {BOT}
    assert world.emu.counts[("GET", "/repos/{owner}/{repo}/installation")] == 1
    assert world.emu.counts[("POST", "/app/installations/{installation_id}/access_tokens")] == 1
    assert world.sleeps == []


def test_a_second_workflow_run_gets_a_fresh_installation_token_and_updates_the_same_checks(
    world: Hub,
) -> None:
    promote(world.context(), model="fraud-detector", to="prod")
    tokens_before = {t for t, i in world.emu.state.tokens.items() if i.login == BOT}

    again = promote(world.context(), model="fraud-detector", to="prod")

    tokens_after = {t for t, i in world.emu.state.tokens.items() if i.login == BOT}
    assert len(tokens_after - tokens_before) == 1
    assert not again.created and again.pr == 1
    head = world.emu.head_sha(1)
    names = [r.name for r in world.emu.state.check_runs.values() if r.head_sha == head]
    assert sorted(names) == sorted(CHECK_NAMES)  # updated in place, never stacked


# --------------------------------------------------------------------------- refusals


def test_a_key_that_is_not_the_apps_is_refused_with_a_hint_and_no_key_material(
    world: Hub, other_key: KeyPair
) -> None:
    with pytest.raises(ForgeError) as caught:
        world.context(env={"PROMOBOT_APP_PRIVATE_KEY": other_key.private_pem})

    message = caught.value.message
    assert f"GitHub App {APP_ID}" in message and "401" in message
    assert "PROMOBOT_APP_PRIVATE_KEY" in (caught.value.hint or "")
    body_lines = [line for line in other_key.private_pem.splitlines() if "-----" not in line]
    assert not any(line in message for line in body_lines)
    assert "PRIVATE KEY-----" not in message
    assert world.sleeps == []  # a refusal is not retried


KEY_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"
MALFORMED_KEYS = {
    "not-pem": "this is not a key",
    "truncated-pem": f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n",
}


@pytest.mark.parametrize("key", list(MALFORMED_KEYS.values()), ids=list(MALFORMED_KEYS))
def test_a_private_key_that_cannot_be_parsed_is_a_usage_error_naming_the_variable(
    world: Hub, key: str
) -> None:
    with pytest.raises(BotError) as caught:
        world.context(env={"PROMOBOT_APP_PRIVATE_KEY": key})

    assert "PROMOBOT_APP_PRIVATE_KEY" in caught.value.message
    assert KEY_BODY not in caught.value.message


def test_an_app_that_is_not_installed_on_the_repository_is_named_in_the_error(
    github_emulator: Emulator, tmp_path: Path, app_key: KeyPair
) -> None:
    world = app_hub(github_emulator, tmp_path, app_key, installed=False)

    with pytest.raises(ForgeError) as caught:
        world.context()

    assert f"GitHub App {APP_ID} is not installed on acme/models" in caught.value.message
    assert caught.value.hint and "install" in caught.value.hint.lower()
    assert github_emulator.counts[("POST", "/app/installations/{installation_id}/access_tokens")] == 0


BAD_SETTINGS = {
    "id-not-numeric": ({"PROMOBOT_APP_ID": "promobot"}, "numeric id"),
    "key-missing": (
        {"PROMOBOT_APP_PRIVATE_KEY": ""},
        "needs both PROMOBOT_APP_ID and PROMOBOT_APP_PRIVATE_KEY",
    ),
}


@pytest.mark.parametrize(("overrides", "expected"), list(BAD_SETTINGS.values()), ids=list(BAD_SETTINGS))
def test_incomplete_app_settings_are_usage_errors_before_any_request(
    world: Hub, overrides: dict[str, str], expected: str
) -> None:
    with pytest.raises(UsageError, match=expected):
        world.context(env=overrides)

    assert world.emu.requests == []


# --------------------------------------------------------------------------- the emulator's JWT rules


def test_the_emulator_refuses_an_expired_jwt_and_one_signed_with_another_key(
    world: Hub, app_key: KeyPair, other_key: KeyPair
) -> None:
    world.emu.jwt_clock = lambda: time.time() + 3600  # the JWT PyGithub signs now expired an hour ago
    with pytest.raises(GithubException) as expired:
        integration(world, app_key.private_pem).get_repo_installation("acme", "models")
    world.emu.jwt_clock = time.time
    with pytest.raises(GithubException) as forged:
        integration(world, other_key.private_pem).get_repo_installation("acme", "models")

    assert expired.value.status == 401 and "'exp'" in expired.value.data["message"]
    assert forged.value.status == 401
    assert forged.value.data["message"] == "A JSON web token could not be decoded"


def test_a_jwt_only_mints_tokens_and_an_installation_token_cannot_act_as_the_app(
    world: Hub, app_key: KeyPair
) -> None:
    with integration(world, app_key.private_pem) as gi:
        installation = gi.get_repo_installation("acme", "models")
        token = gi.get_access_token(installation.id)
    jwt = Auth.AppAuth(APP_ID, app_key.private_pem).create_jwt()

    as_app = Github(base_url=world.emu.url, auth=Auth.AppAuthToken(jwt), retry=None)
    with as_app, pytest.raises(GithubException) as with_jwt:
        as_app.get_repo("acme/models")
    as_installation = world.emu.github(token.token)
    with pytest.raises(GithubException) as with_token:
        as_installation.requester.requestJsonAndCheck("GET", "/repos/acme/models/installation")

    assert installation.raw_data["app_slug"] == SLUG and installation.raw_data["app_id"] == APP_ID
    assert as_installation.get_repo("acme/models").full_name == "acme/models"
    assert world.emu.state.tokens[token.token].login == BOT
    assert (with_jwt.value.status, with_jwt.value.data["message"]) == (401, "Bad credentials")
    assert with_token.value.status == 401

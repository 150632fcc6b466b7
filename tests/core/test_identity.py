"""Who is a bot (bot/core/identity.py): one rule for reviews, comments, commands and both forges."""

from __future__ import annotations

import pytest

from bot.core.identity import bare, is_bot, is_bot_account, is_promobot, promobot_logins


@pytest.mark.parametrize(
    ("login", "bot_login", "expected"),
    [
        ("promobot", "promobot", True),
        ("PromoBot[bot]", "promobot", True),  # GitHub's app spelling of the same account
        ("promobot", "promobot[bot]", True),
        (" promobot ", "promobot[bot]", True),
        ("dependabot[bot]", "promobot", True),  # any app account
        ("alice", "promobot", False),
        ("promobot-fan", "promobot", False),
        ("promobo", "promobot", False),
        ("alice", "", False),  # no bot login known: only the [bot] suffix tells
        ("", "", False),
    ],
)
def test_is_bot_is_promobot_in_any_spelling_or_any_app_account(
    login: str, bot_login: str, expected: bool
) -> None:
    assert is_bot(login, bot_login) is expected


def test_a_user_the_forge_types_as_bot_is_a_bot_whatever_its_login() -> None:
    assert is_bot_account("renovate", typed_bot=True) and is_bot("renovate", "promobot", typed_bot=True)
    assert not is_bot_account("renovate")


def test_promobot_itself_is_told_from_other_bots() -> None:
    assert is_promobot("promobot[bot]", "PromoBot") and not is_promobot("dependabot[bot]", "promobot")
    assert not is_promobot("anyone", "")  # an empty bot login names nobody
    assert bare(" Promobot[bot] ") == "promobot"
    assert promobot_logins("PromoBot[bot]") == {"promobot[bot]", "promobot"}
    assert promobot_logins(" ") == frozenset()

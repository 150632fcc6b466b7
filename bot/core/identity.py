"""Who is a bot: the one rule for telling promobot and other automation from people.

GitHub names app accounts ``<slug>[bot]`` and marks bot users with ``type: Bot``; promobot's
own login may be given with or without the suffix. A bot's review never counts, a bot's
comment runs no command, and promobot never answers itself (SECURITY.md).
"""

from __future__ import annotations

BOT_SUFFIX = "[bot]"

COMMIT_IDENTITY = "promobot <promobot@users.noreply.github.com>"
"""Author of the commits promobot writes when the forge does not name another (``Name <email>``)."""


def bare(login: str) -> str:
    """``login`` compared the way GitHub compares logins, without the ``[bot]`` suffix."""
    return login.strip().lower().removesuffix(BOT_SUFFIX)


def is_bot_account(login: str, *, typed_bot: bool = False) -> bool:
    """An account of automation: flagged ``type: Bot`` by the forge, or a login ending in ``[bot]``."""
    return typed_bot or login.strip().lower().endswith(BOT_SUFFIX)


def is_promobot(login: str, bot_login: str) -> bool:
    """``login`` is promobot itself (``bot_login``, with or without the ``[bot]`` suffix)."""
    mine = bare(bot_login)
    return bool(mine) and bare(login) == mine


def is_bot(login: str, bot_login: str, *, typed_bot: bool = False) -> bool:
    """promobot itself or any other bot account."""
    return is_bot_account(login, typed_bot=typed_bot) or is_promobot(login, bot_login)


def promobot_logins(bot_login: str) -> frozenset[str]:
    """promobot's login in every spelling it may appear in (lower case, with and without ``[bot]``)."""
    low = bot_login.strip().lower()
    if not low:
        return frozenset()
    mine = bare(low)
    return frozenset({low, mine, mine + BOT_SUFFIX})

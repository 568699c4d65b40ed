"""What every Slack surface of the bot works with: the gate, the outbox, who the bot is.

`Revocation` holds the one fact that stops everything (Slack revoked the bot's token);
`Basics` bundles it with the gate every surface passes first (`bot.gate`), the outbox
everything is sent through (`bot.outbox`) and the policy that knows the bot's own id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from bot.gate import Gate, Knock
from bot.inbound import Question
from bot.outbox import Outbox
from bot.policy import Policy

log = logging.getLogger(__name__)


class Revocation:
    """Whether Slack revoked the bot's token; told once to `on_revoked`."""

    def __init__(self, on_revoked: Callable[[], None] | None = None):
        self.revoked = False
        self._on_revoked = on_revoked
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        return self.revoked

    def revoke(self, reason: str) -> None:
        """Slack revoked the token (uninstalled, or `reason` from a call): go idle, once."""
        with self._lock:
            if self.revoked:
                return
            self.revoked = True
        log.warning(
            "Slack revoked the bot's token (%s): no more answers. Reinstall the app, put its "
            "Bot User OAuth Token in SLACK_BOT_TOKEN and start the bot again.",
            reason,
        )
        if self._on_revoked is not None:
            self._on_revoked()


@dataclass(frozen=True)
class Basics:
    """The gate, the outbox and the policy, shared by every surface."""

    gate: Gate
    outbox: Outbox
    policy: Policy
    revocation: Revocation

    @property
    def bot(self) -> str | None:
        """The bot's user id."""
        return self.policy.identity.bot_user_id

    @property
    def revoked(self) -> bool:
        """Whether Slack revoked the bot's token."""
        return self.revocation.revoked


def knock_of(question: Question) -> Knock:
    """The gate's view of a question: who asks, how, and where."""
    return Knock(question.kind, question.user, question.team, question.channel)

"""The one gate in front of every Slack surface, applied in one order.

Mention, DM, follow-up, assistant thread, edit, `/ask`, Share, 👍/👎 and App Home all pass
`Gate.check` before they compute, store or show anything. The first check that fails
decides, and the order is fixed: the bot's token was revoked (say nothing), the person is
from another organisation, the channel is not one the bot answers in, the person asks
faster than RATE_LIMIT_PER_MINUTE (only surfaces that compute an answer count), and last
the request's own content (an empty question, a vote for an answer the bot never gave, a
payload without the URL to reply to). The gate only decides and logs; the responder tells
the person in the way their surface allows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from slack_sdk import WebClient

from bot import notices
from bot.guards import RateLimiter
from bot.policy import Policy
from core.sections import SlackSettings

log = logging.getLogger(__name__)

Surface = Literal[
    "mention",
    "direct",
    "follow_up",
    "assistant",
    "command",
    "share",
    "vote",
    "home",
    "greeting",
    "auto",  # a question in an auto-answer desk channel (bot.desks)
    "shortcut",  # "Ask the archive about this message"
    "reason",  # why a 👎 (the reason modal's submission)
]
Step = Literal["revoked", "outsider", "channel", "rate", "input"]

# The surfaces that compute an answer: each request counts against the rate limit.
ANSWERING: frozenset[str] = frozenset(
    {"mention", "direct", "follow_up", "assistant", "command", "share", "auto", "shortcut"}
)


@dataclass(frozen=True)
class Knock:
    """Who asks for what, and where.

    Attributes:
        surface: Which way in.
        user: The person.
        team: Their team or org as the payload says; None looks it up (`users.info`).
        channel: Where; None where there is no channel (App Home).
    """

    surface: Surface
    user: str
    team: str | None
    channel: str | None = None


@dataclass(frozen=True)
class Problem:
    """What is wrong with a request's own content.

    Attributes:
        reason: A short, body-free reason for the log.
        notice: What to tell the person.
        forged: Nothing Slack's own clients send: logged as a warning, not as news.
    """

    reason: str
    notice: str
    forged: bool = False


@dataclass(frozen=True)
class Refusal:
    """Why a knock was turned away, and what to tell the person ("": nothing)."""

    step: Step
    notice: str


class Gate:
    """Decides, in the module's order, whether a request may go on.

    Args:
        slack: ALLOWED_CHANNELS and RATE_LIMIT_PER_MINUTE (for the notices).
        policy: Who is an insider, which channels are allowed.
        limiter: The per-person rate limit.
        revoked: Whether Slack revoked the bot's token.
    """

    def __init__(
        self,
        slack: SlackSettings,
        policy: Policy,
        limiter: RateLimiter,
        revoked: Callable[[], bool],
    ):
        self.slack, self.policy, self.limiter = slack, policy, limiter
        self.revoked = revoked

    def check(
        self, client: WebClient, knock: Knock, problem: Problem | None = None
    ) -> Refusal | None:
        """None when the request may go on (an answering one is counted), else the refusal.

        Args:
            client: For the `users.info` lookups the outsider check may need.
            knock: Who, how and where.
            problem: What the surface found wrong with the request's content, if anything;
                it decides only once every earlier check passed.
        """
        if self.revoked():
            return Refusal("revoked", "")
        if not self.policy.insider(client, knock.user, knock.team):
            return Refusal("outsider", notices.OUTSIDER)
        if knock.channel is not None and not self.policy.allowed(knock.channel):
            log.info("not answering user %s in channel %s (not allowed)", knock.user, knock.channel)
            return Refusal("channel", notices.not_allowed(self.slack.allowed_channels))
        if knock.surface in ANSWERING:
            refusal = self._rate(knock.user)
            if refusal is not None:
                return refusal
        if problem is not None:
            level = logging.WARNING if problem.forged else logging.INFO
            log.log(
                level, "refused a %s from user %s: %s", knock.surface, knock.user, problem.reason
            )
            return Refusal("input", problem.notice)
        return None

    def _rate(self, user: str) -> Refusal | None:
        wait = self.limiter.wait_time(user)
        if not wait:
            return None
        log.info("rate limited user %s for %.0f s", user, wait)
        if not self.limiter.first_refusal(user):
            return Refusal("rate", "")
        return Refusal("rate", notices.rate_limited(wait, self.slack.rate_limit_per_minute))

"""The responder: builds the bot's surfaces over one gate, one outbox and one set of pools.

Listeners only unpack Slack's payloads (`bot.inbound`) and hand them to a surface here:
`conversations` (mentions, DMs, follow-ups, edits: `bot.conversation`), `private` (`/ask`,
the message shortcut, Share: `bot.private`), `clicks` (👍/👎 and their reasons:
`bot.clicks`) and `visits` (App Home, greetings: `bot.visits`). Every surface passes the
one gate (`bot.gate`: revoked, outsider, allowed channel, rate limit, input checks, in that
order) before it computes, stores or shows anything. The work runs on the responder's
pools (`bot.pools`), which `drain` waits for and `close` shuts down.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable

from slack_sdk import WebClient

from bot.answering import Answerer, Answering
from bot.basics import Basics, Revocation
from bot.clicks import Clicks
from bot.conversation import Conversations
from bot.corrections import Corrections
from bot.desks import Desks
from bot.feedback import FeedbackStore
from bot.following import FollowedAnswers
from bot.gate import Gate
from bot.guards import RateLimiter
from bot.inbound import Question
from bot.outbox import Outbox
from bot.policy import Policy
from bot.pools import ANSWER_WORKERS, CLOSE_SECONDS, Pools
from bot.private import PrivateAnswers
from bot.progress import ArticleCount, Progress
from bot.questions import QuestionLog
from bot.state import AnswerLog, IssuedAnswers, SharedState, ThreadMemory
from bot.streaming import WrittenReplies
from bot.visits import Visits
from core.models import StoreSummary
from core.sections import SlackSettings

__all__ = ["ANSWER_WORKERS", "Answerer", "Responder"]


class Responder:
    """Turns Slack requests into answers, votes and views.

    Args:
        slack: Allowed channels, rate limit, follow-ups, FEEDBACK_CHANNEL.
        answerer: question -> Answer (the real one wraps `core.answer.compose.answer_question`).
        feedback: Where 👍/👎 clicks go.
        policy: Who may ask where.
        state: What every bot process on the host remembers (threads, posted answers).
        summarize: What the archive holds, for the App Home tab (None: unreachable).
        on_revoked: Called once when Slack revokes the bot's token (the app was
            uninstalled); the bot then stays idle.
        pools: The pools the work runs on (by default its own).
        written: Adds a model's written answer (None: answers stay extractive).
        desks: Per-channel defaults (DESKS): filters, auto-answer, private replies.
    """

    def __init__(
        self,
        slack: SlackSettings,
        answerer: Answerer,
        feedback: FeedbackStore,
        policy: Policy,
        state: SharedState,
        summarize: Callable[[], StoreSummary | None] = lambda: None,
        on_revoked: Callable[[], None] | None = None,
        pools: Pools | None = None,
        written: WrittenReplies | None = None,
        desks: Desks | None = None,
    ):
        self.slack = slack
        self.desks = desks or Desks()
        self.pools = pools or Pools()
        self.revocation = Revocation(on_revoked)
        limiter = RateLimiter(slack.rate_limit_per_minute)
        gate = Gate(slack, policy, limiter, self.revocation)
        outbox = Outbox(self.revocation.revoke)
        self.basics = Basics(gate, outbox, policy, self.revocation)
        asked, issued = QuestionLog(state), IssuedAnswers(state)
        threads = ThreadMemory(state)
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.followed = FollowedAnswers(
            state, slack.follow_answers_days, slack.follow_answers_per_minute, owner
        )
        self.answering = Answering(answerer, self.desks, asked, issued, outbox, written)
        articles = ArticleCount(summarize)

        def progress(client: WebClient, question: Question) -> Progress:
            return Progress(self.pools.progress, outbox, client, question, articles)

        self.conversations = Conversations(
            slack, self.basics, self.answering, threads, AnswerLog(state), self.followed,
            self.desks, progress,
        )  # fmt: skip
        self.private = PrivateAnswers(self.basics, self.answering, threads, self.pools.later)
        self.clicks = Clicks(slack, self.basics, feedback, issued)
        self.visits = Visits(self.basics, feedback, asked, summarize)
        self.corrections: Corrections | None = None  # set by `bot.app` when answers follow

    @property
    def outbox(self) -> Outbox:
        """Everything the bot sends goes through it."""
        return self.basics.outbox

    @property
    def revoked(self) -> bool:
        """Whether Slack revoked the bot's token."""
        return self.revocation.revoked

    def revoke(self, reason: str) -> None:
        """Slack revoked the token (`reason`: the event or the call's error): go idle, once."""
        self.revocation.revoke(reason)

    def later(self, work: Callable[..., object], *args: object) -> None:
        """Run `work(*args)` on the answering pool and return at once (`Pools.later`)."""
        self.pools.later(work, *args)

    def quickly(self, work: Callable[..., object], *args: object) -> None:
        """As `later`, on the pool for clicks, which computes no answers."""
        self.pools.quickly(work, *args)

    def drain(self, timeout: float) -> bool:
        """Wait until every event accepted so far was fully handled (answers posted,
        progress taken away, votes stored): True, or False after `timeout` seconds."""
        return self.pools.drain(timeout)

    def close(self, timeout: float = CLOSE_SECONDS) -> bool:
        """Stop: answers in flight finish (at most `timeout` seconds), then the pools shut
        down and nothing new is accepted. True when everything finished in time."""
        return self.pools.close(timeout)

"""Visits that ask nothing: the App Home tab, a new assistant thread, the Messages tab.

Each passes the gate (`bot.gate`) first: someone from another organisation sees only that
the bot is not theirs. The Home tab shows how to ask and what the archive holds, and, for
whoever runs the bot, what people thought of the answers and what they asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient

from bot import notices
from bot.basics import Basics
from bot.feedback import FeedbackStore
from bot.gate import Knock
from bot.home import MAX_DOWN_VOTES, HomeFacts, render_home, render_refusal_home
from bot.questions import QuestionLog, week_ago
from bot.render import render_notice
from core.models import StoreSummary

SUGGESTED_PROMPTS = [
    {"title": "What's new this week?", "message": "What's new this week?"},
    {"title": "Who is in the news this month?", "message": "Who is in the news this month?"},
    {"title": "How do I ask?", "message": "help"},
]


class Visits:
    """The App Home tab and the greetings.

    Args:
        basics: The gate, the outbox, the policy (who runs the bot).
        feedback: The votes admins see.
        asked: The questions admins see statistics of.
        summarize: What the archive holds (None: unreachable).
    """

    def __init__(
        self,
        basics: Basics,
        feedback: FeedbackStore,
        asked: QuestionLog,
        summarize: Callable[[], StoreSummary | None],
    ):
        self.basics, self.feedback, self.asked, self.summarize = basics, feedback, asked, summarize
        self.outbox = basics.outbox

    def show_home(self, client: WebClient, user: str) -> None:
        """Publish the App Home tab for `user` (the feedback summary for admins only);
        someone from another organisation sees only that the bot is not theirs."""
        refusal = self.basics.gate.check(client, Knock("home", user, None))
        if refusal is not None:
            if refusal.notice:
                self.outbox.publish(client, user, render_refusal_home(refusal.notice))
            return
        facts = HomeFacts(self.basics.bot, self.summarize())
        if self.basics.policy.admin(client, user):
            week = datetime.now(UTC) - timedelta(days=7)
            facts.tally = self.feedback.tally(week)
            down = self.feedback.votes(week, "down", latest=MAX_DOWN_VOTES)
            facts.recent_down = list(reversed(down))
            facts.questions = self.asked.stats(week_ago())
        self.outbox.publish(client, user, render_home(facts))

    def greet(self, client: WebClient, user: str, channel: str, thread_ts: str) -> None:
        """A new assistant thread: say hello and offer suggested prompts."""
        refusal = self.basics.gate.check(client, Knock("greeting", user, None, channel))
        if refusal is not None:
            if refusal.notice:
                self.outbox.post(client, channel, thread_ts, render_notice(refusal.notice))
            return
        self.outbox.post(client, channel, thread_ts, render_notice(notices.ASSISTANT_GREETING))
        self.outbox.suggest(client, channel, thread_ts, SUGGESTED_PROMPTS)

    def welcome(self, client: WebClient, user: str, channel: str) -> None:
        """The Messages tab opened in the agent experience: suggested prompts for the DM,
        without a thread (nothing is posted: the tab opens often)."""
        if self.basics.gate.check(client, Knock("greeting", user, None, channel)) is not None:
            return
        self.outbox.suggest(client, channel, None, SUGGESTED_PROMPTS)

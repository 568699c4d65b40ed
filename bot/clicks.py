"""Clicks on the bot's answers: 👍/👎, and a 👎's reason from the modal it opens.

A vote counts only for an answer the bot gave (what it said is stored, not what the click
claims), after the gate (`bot.gate`); the voter is thanked privately, and a 👎 opens the
optional reason modal. A reason is stored with its vote, and posted to FEEDBACK_CHANNEL
when that is set.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_sdk import WebClient

from bot import notices, reasons
from bot.basics import Basics
from bot.feedback import FeedbackStore, Vote
from bot.gate import Knock, Problem, Refusal
from bot.state import IssuedAnswers
from core.sections import SlackSettings

log = logging.getLogger(__name__)


class Clicks:
    """Stores votes and their reasons.

    Args:
        slack: FEEDBACK_CHANNEL.
        basics: The gate, the outbox.
        feedback: Where votes go.
        issued: The answers the bot gave, by feedback id.
    """

    def __init__(
        self, slack: SlackSettings, basics: Basics, feedback: FeedbackStore, issued: IssuedAnswers
    ):
        self.slack, self.basics, self.feedback, self.issued = slack, basics, feedback, issued

    def vote(
        self,
        client: WebClient,
        vote: Vote,
        team: str | None,
        thread_ts: str | None,
        response_url: str | None,
        trigger_id: str | None = None,
    ) -> None:
        """Store a 👍/👎 on an answer the bot gave, with what it said (not what the click
        claims), and thank the voter, privately: the click's response_url first. A 👎
        also opens the optional reason modal with the click's `trigger_id`."""
        issued = self.issued.recall(vote.answer_id) if vote.answer_id else None
        problem = None
        if issued is None:
            problem = Problem("vote for an answer I did not give", notices.STALE_BUTTON, True)
        knock = Knock("vote", vote.user_id, team, vote.channel_id)
        refusal = self.basics.gate.check(client, knock, problem)
        if refusal is not None:
            where = (vote.channel_id, thread_ts, response_url)
            tell_refused(self.basics, client, vote.user_id, where, refusal)
            return
        assert issued is not None  # the gate refuses a vote without one
        vote = replace(vote, question=issued.question, answer=issued.answer)
        self.feedback.record(vote)
        log.info("feedback %s on answer %s from %s", vote.vote, vote.answer_id, vote.user_id)
        outbox = self.basics.outbox
        if vote.vote == "down" and trigger_id:  # first: the trigger expires in 3 s
            outbox.open_view(client, trigger_id, reasons.reason_modal(vote.answer_id))
        outbox.tell(
            client,
            vote.user_id,
            notices.THANKS,
            channel=vote.channel_id,
            thread_ts=thread_ts,
            response_url=response_url,
            dm=False,
        )

    def explain_vote(self, client: WebClient, reason: reasons.Reason) -> None:
        """A 👎's reason: stored with the vote, and posted to FEEDBACK_CHANNEL when set."""
        vote = self.feedback.vote_of(reason.answer_id, reason.user)
        problem = None
        if vote is None or vote.vote != "down":
            problem = Problem("a reason for a 👎 never given", "", forged=True)
        channel = vote.channel_id if vote is not None else None  # where the 👎 was given
        knock = Knock("reason", reason.user, reason.team, channel)
        if self.basics.gate.check(client, knock, problem) is not None:
            return  # the modal is closed already: nothing to show it in
        assert vote is not None
        self.feedback.explain(reason.answer_id, reason.user, reason.reason, reason.note)
        log.info(
            "feedback reason %s on answer %s from %s",
            reason.reason or "none",
            reason.answer_id,
            reason.user,
        )
        editors = self.slack.feedback_channel
        if editors:
            message = reasons.render_for_editors(vote, reason)
            posted = self.basics.outbox.post(client, editors, None, message)
            if not posted.ts:
                log.warning("a 👎 reason did not reach FEEDBACK_CHANNEL: %s", posted.error)


def tell_refused(
    basics: Basics,
    client: WebClient,
    user: str,
    where: tuple[str | None, str | None, str | None],
    refusal: Refusal,
) -> None:
    """Tell whoever clicked or pointed why nothing happened, privately (if at all).

    Args:
        where: The channel, thread and response_url of the click (each may be None).
    """
    channel, thread_ts, response_url = where
    if refusal.notice:
        basics.outbox.tell(
            client,
            user,
            refusal.notice,
            channel=channel,
            thread_ts=thread_ts,
            response_url=response_url or None,
            dm=False,
        )

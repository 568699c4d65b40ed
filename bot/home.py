"""The App Home tab: how to ask, what the archive holds and, for whoever runs the bot, what
people thought of the answers. Drawn here; published by the responder (`views.publish`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.feedback import Tally, Vote
from bot.mrkdwn import clip, escape
from bot.notices import usage
from bot.questions import QuestionStats, describe_questions
from bot.render import fit_section
from core.language.text import counted
from core.models import StoreSummary

MAX_OUTLETS = 12
MAX_DOWN_VOTES = 5


@dataclass
class HomeFacts:
    """What the Home tab shows.

    Attributes:
        bot_user_id: To name the bot in the usage text.
        summary: What the archive holds; None when it cannot be reached.
        tally: 👍/👎 of the last week, for admins only (None for everyone else).
        recent_down: The latest 👎, newest first (admins only).
        questions: The last week's questions: per day, no-answer rate, gaps (admins only).
    """

    bot_user_id: str | None
    summary: StoreSummary | None
    tally: Tally | None = None
    recent_down: list[Vote] = field(default_factory=list)
    questions: QuestionStats | None = None


def render_home(facts: HomeFacts) -> dict[str, Any]:
    """The Home tab view for `views.publish`."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Ask the archive"}},
        _section(usage(facts.bot_user_id)),
        {"type": "divider"},
        _section(_holdings(facts.summary)),
    ]
    if facts.tally is not None:
        blocks += [{"type": "divider"}, _section(_feedback(facts.tally, facts.recent_down))]
    if facts.questions is not None:
        blocks += [{"type": "divider"}, _section(describe_questions(facts.questions))]
    return {"type": "home", "blocks": blocks}


def render_refusal_home(notice: str) -> dict[str, Any]:
    """The Home tab for someone the bot does not serve: why, and nothing of the archive."""
    return {"type": "home", "blocks": [_section(notice)]}


def _holdings(summary: StoreSummary | None) -> str:
    if summary is None:
        return "*What the archive holds*\nThe archive can't be reached right now."
    if summary.articles == 0:
        return (
            "*What the archive holds*\nNothing yet. Whoever runs me can add articles with "
            "`ingest PATH_OR_URL`."
        )
    lines = [f"*What the archive holds*\n{counted(summary.articles, 'article')}"]
    if summary.oldest:
        lines[0] += f", published {summary.oldest} to {summary.newest}"
    if summary.outlets:
        shown = ", ".join(escape(clip(o, 60)) for o in summary.outlets[:MAX_OUTLETS])
        more = len(summary.outlets) - MAX_OUTLETS
        lines.append(f"Outlets: {shown}" + (f" and {more} more" if more > 0 else ""))
    if summary.last_ingest:
        lines.append(f"Last added: {escape(summary.last_ingest[:16].replace('T', ' '))} UTC")
    return "\n".join(lines)


def _feedback(tally: Tally, down: list[Vote]) -> str:
    lines = [
        "*Feedback in the last 7 days* (only people who run me see this)",
        f"👍 {tally.up}   👎 {tally.down}",
    ]
    for vote in down[:MAX_DOWN_VOTES]:
        lines.append(f"👎 _{escape(clip(' '.join(vote.question.split()), 150))}_")
    lines.append("The full list: `bot feedback --since 7d` on the server.")
    return "\n".join(lines)


def _section(mrkdwn: str) -> dict[str, Any]:
    """A section, cut to Slack's 3,000 characters: escaping can make people's questions
    five times longer (`&` is `&amp;`), and one long section got the whole tab refused."""
    text = fit_section(mrkdwn)
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}

"""Why a 👎: the optional reason modal, what its submission says, and the editors' message.

A 👎 click carries a `trigger_id`, valid for 3 seconds: the bot opens this modal with it
(`views.open`, https://docs.slack.dev/reference/methods/views.open/). Both inputs are
optional, so "Send" with nothing chosen is fine and "Skip" closes it; the vote itself was
stored at the click. The submission (`view_submission`) names the answer in the view's
`private_metadata`, which Slack keeps on its side: the person cannot change it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.feedback import Vote
from bot.inbound import text_at
from bot.mrkdwn import clip, escape, mention
from bot.render import Message

REASON_VIEW = "feedback_reason"
REASONS = {
    "wrong": "Wrong",
    "outdated": "Outdated",
    "missing": "Missing article",
    "other": "Other",
}
NOTE_CHARS = 150


@dataclass(frozen=True)
class Reason:
    """What a person said about their 👎.

    Attributes:
        answer_id: The answer voted on.
        user: Who voted.
        team: Their team, as the payload says.
        reason: One of `REASONS` ("" when none was chosen).
        note: Their line of text ("" when none).
    """

    answer_id: str
    user: str
    team: str | None
    reason: str
    note: str


def reason_modal(answer_id: str) -> dict[str, Any]:
    """The modal asking why (both inputs optional)."""
    options = [
        {"text": {"type": "plain_text", "text": label}, "value": value}
        for value, label in REASONS.items()
    ]
    return {
        "type": "modal",
        "callback_id": REASON_VIEW,
        "private_metadata": json.dumps({"id": answer_id}),
        "title": {"type": "plain_text", "text": "Thanks for the 👎"},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Skip"},
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "Your vote is saved. If you like, tell the editors what was wrong.",
                },
            },
            {
                "type": "input",
                "block_id": "reason",
                "optional": True,
                "label": {"type": "plain_text", "text": "What was wrong?"},
                "element": {"type": "radio_buttons", "action_id": "reason", "options": options},
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Anything to add? (one line)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "note",
                    "max_length": NOTE_CHARS,
                },
            },
        ],
    }


def reason_of(body: dict[str, Any]) -> Reason | None:
    """The reason a `view_submission` carries; None when it lacks who or which answer."""
    view = body.get("view")
    user = text_at(body, "user", "id")
    try:
        meta = json.loads(text_at(view, "private_metadata") or "{}")
    except (ValueError, RecursionError):
        meta = {}
    answer_id = text_at(meta, "id")
    if not (user and answer_id):
        return None
    values = (view or {}).get("state", {}).get("values", {})
    chosen = text_at(values, "reason", "reason", "selected_option", "value") or ""
    note = text_at(values, "note", "note", "value") or ""
    return Reason(
        answer_id=answer_id,
        user=user,
        team=text_at(body, "user", "team_id"),
        reason=chosen if chosen in REASONS else ("other" if chosen else ""),
        note=" ".join(note.split())[:NOTE_CHARS],
    )


def render_for_editors(vote: Vote, reason: Reason) -> Message:
    """The editors' channel message: the verdict, the reason, the question and answer."""
    label = REASONS.get(reason.reason, "No reason given")
    where = f" in <#{vote.channel_id}>" if vote.channel_id else ""
    lines = [f"👎 *{label}* from {mention(vote.user_id)}{where}"]
    if reason.note:
        lines.append(f"> {escape(reason.note)}")
    lines.append(f"*Question:* {escape(clip(' '.join(vote.question.split()), 300))}")
    answer = " ".join(vote.answer.split()) or "(nothing found)"
    lines.append(f"*Answer:* {escape(clip(answer, 500))}")
    text = "\n".join(lines)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}
    return Message(f"👎 {label}: {escape(clip(vote.question, 150))}", [section])

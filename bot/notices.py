"""Every short text the bot says on its own behalf: what happened, and what to do next.

Nothing here shows raw exception text or a Slack error code to a person. Texts that name
the bot use its mention (`<@U…>`), which Slack shows as whatever the app is called in that
workspace.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.mrkdwn import escape

UNAVAILABLE = (
    "Search is unavailable right now: I can't reach the article archive. "
    "I'll keep trying by myself; please ask again in a minute."
)
FAILED = "Sorry, something went wrong on my side while answering. Please try again."
MISCONFIGURED = (
    "I can't search the archive: it is set up wrongly on my side. "
    "Whoever runs me will find the reason in my logs."
)
EMPTY_QUESTION = "Ask me a question about the archive, e.g. _who was Salvador Cienfuegos?_"
THANKS = "Thanks for the feedback! It helps whoever tunes the archive."
FILES_NOT_READ = (
    "I don't read attached files, only the words of your message. To have a document "
    "searchable, ask whoever runs me to add it to the archive."
)
FILES_ONLY = (
    "I don't read attached files. Ask me a question in words, e.g. _who was Salvador Cienfuegos?_"
)
OUTSIDER = (
    "Sorry, I only answer members of the workspace that installed me. Someone from that "
    "workspace can ask me for you."
)
EDITED = "Updated for the edited question."
STALE_BUTTON = "That button doesn't work any more. Ask me again, e.g. with `/ask`."
INCOMPLETE = "Slack's request reached me incomplete, so I couldn't answer it. Please try again."
ASSISTANT_GREETING = (
    "Hi! Ask me about anything in the newsroom's archive. I quote the sentence that best "
    "answers you, with its sources."
)
SEARCHING_STATUS = "is searching the archive…"
NOTHING_TO_ASK = (
    "That message has no words I can search for. Point me at a message with text, "
    "or ask with `/ask`."
)
SHORTCUT_FAILED = (
    "I found an answer about that message but Slack didn't let me show it there. "
    "Try again, or ask with `/ask`."
)


def usage(bot: str | None) -> str:
    """How to ask, for "help" and `/ask help` (mrkdwn)."""
    me = f"<@{bot}>" if bot else "me"
    return (
        "*How to ask me*\n"
        f"• Mention me in a channel: {me} _who was Salvador Cienfuegos?_ I answer in the thread.\n"
        "• Send me a direct message.\n"
        "• `/ask who was Salvador Cienfuegos?` anywhere: only you see the answer, and a "
        "*Share in channel* button posts it for everyone.\n"
        "• Reply in my thread to ask a follow-up without mentioning me again.\n"
        "*Filters*: `since:2022-06-01`, `before:2022-07-01`, `source:latimes.com` or "
        '`source:"Los Angeles Times"`; words such as _this week_ or _today_ prefer recent '
        "articles.\n"
        "Rate answers with 👍/👎: whoever runs me reads the 👎 ones."
    )


def rate_limited(seconds: float, per_minute: int) -> str:
    """The friendly notice for someone asking too fast."""
    return (
        f"You're asking faster than I can keep up with ({per_minute} questions a minute). "
        f"Please try again in about {max(int(seconds + 0.999), 1)} seconds."
    )


def not_allowed(channels: Sequence[str]) -> str:
    """The notice for a question asked where the bot does not answer."""
    where = ", ".join(f"<#{c}>" for c in channels if c.isalnum())
    return f"I only answer questions in {where} and in direct messages. Ask me there!"


def searching(question: str) -> str:
    """The progress line a `/ask` shows at once."""
    return f":mag: Searching the archive for “{escape(question[:300])}”…"


def is_conversation_between_people(channel: str, channel_name: str | None = None) -> bool:
    """A DM or group DM: nobody can `/invite` the bot there, and it cannot post there."""
    name = channel_name or ""
    return channel.startswith("D") or name == "directmessage" or name.startswith("mpdm-")


def cannot_share(channel: str, bot: str | None, channel_name: str | None = None) -> str:
    """Why a shared answer could not be posted, and what to do instead."""
    if is_conversation_between_people(channel, channel_name):
        return (
            "I can't post in a direct message between people. Ask me with `/ask` in a "
            "channel I'm in and share it there, or copy the answer."
        )
    return f"I can't post in this channel. Invite me first ({_invite(bot)}), then share again."


def not_posted(error: str, channel: str, bot: str | None) -> str:
    """Why an answer could not be posted where it was asked, and what to do next.

    Args:
        error: Slack's error code for the failed post (not shown as such).
        channel: Where the answer should have gone.
        bot: The bot's user id, to name it.
    """
    where = "there" if channel.startswith("D") else f"in <#{channel}>"
    elsewhere = "Ask me in another channel, or in a direct message to me."
    reasons = {
        "not_in_channel": f"I'm not a member of that channel. Add me with {_invite(bot)}, "
        "then ask again.",
        "channel_not_found": f"I can't see that conversation. Add me with {_invite(bot)}, "
        "or ask me in a direct message.",
        "is_archived": f"that channel is archived. {elsewhere}",
        "restricted_action": "posting there is restricted to some people, and I'm not one of "
        f"them. {elsewhere}",
        "msg_blocks_too_long": "my answer was too long for one Slack message. Try a narrower "
        "question, for instance with `since:` or `source:`.",
        "invalid_blocks": "Slack refused the layout of my answer. Please tell whoever runs me.",
    }
    reason = reasons.get(error, "Slack refused my answer. Please try again in a minute.")
    return f"I couldn't post my answer {where}: {reason}"


def _invite(bot: str | None) -> str:
    return f"`/invite` <@{bot}>" if bot else "`/invite` and my name"

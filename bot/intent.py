"""Whether a message is meant for the bot: a follow-up question, a request for help, or
chatter between people.

A reply in a thread the bot answered is a follow-up only when it reads as a question to the
bot. The rule is grammatical, not a list of phrases to ignore: a question mark, or a
question word, auxiliary or request verb among its first words ("when was he arrested",
"and who else", "show me more"); and no mention of another person or group, since a
message addressed to someone else is not addressed to the bot. "thanks!", "got it" and
"@bob can you check this?" all fail it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_WORD = re.compile(r"[a-z]+(?:['’][a-z]+)?")
# Words that open an English question: wh-words and the auxiliaries of yes/no questions.
_QUESTION_WORDS = frozenset(
    {
        *("who", "whom", "whose", "what", "which", "when", "where", "why", "how"),
        *("is", "are", "was", "were", "am", "do", "does", "did", "has", "have", "had"),
        *("can", "could", "will", "would", "shall", "should", "may", "might", "must"),
        *("any", "anything", "anyone", "anybody"),
    }
)
# Verbs that open a request to a search tool.
_REQUEST_VERBS = frozenset(
    {
        *("tell", "show", "find", "give", "list", "explain", "describe", "summarize"),
        *("summarise", "search", "look", "compare", "check"),
    }
)
_OPENING_WORDS = 3  # "and who else", "ok, when did …": the question word comes early
_MENTION = re.compile(r"<[@!]([^<>|]+)(?:\|[^<>]*)?>")
_HELP = frozenset({"help", "usage", "commands", "how to use", "what can you do", "?"})


def reads_as_question(text: str) -> bool:
    """True when plain text reads as a question or a request (see the module's rule)."""
    if "?" in text and _WORD.search(text.lower()):
        return True
    opening = _WORD.findall(text.lower())[:_OPENING_WORDS]
    return any(w in _QUESTION_WORDS or w in _REQUEST_VERBS for w in opening)


def mentioned(text: str, blocks: list[dict[str, Any]] | None = None) -> set[str]:
    """Every user, group or broadcast a message mentions, in any of Slack's forms: `<@U1>`,
    the legacy `<@U1|name>`, `<!subteam^S1>`, `<!here>`, and `rich_text` elements."""
    found = {m.group(1) for m in _MENTION.finditer(text or "")}
    for element in _elements(blocks or []):
        kind = element.get("type")
        if kind == "user" and element.get("user_id"):
            found.add(str(element["user_id"]))
        elif kind == "usergroup" and element.get("usergroup_id"):
            found.add(f"subteam^{element['usergroup_id']}")
        elif kind == "broadcast" and element.get("range"):
            found.add(str(element["range"]))
    return found


def _elements(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _elements(item)
    elif isinstance(node, dict):
        yield node
        yield from _elements(node.get("elements", []))


def addressed_to_others(mentions: set[str], bot_user_id: str | None) -> bool:
    """True when a message mentions anyone (a person, a group, @here) besides the bot."""
    return bool(mentions - {bot_user_id or ""})


def asks_for_help(text: str) -> bool:
    """True for "help" (and the like) on its own, not for questions that contain it."""
    return " ".join(_WORD.findall(text.lower())) in _HELP or text.strip() == "?"

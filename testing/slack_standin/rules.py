"""What the stand-in's workspace is and what Slack accepts from an app.

The workspace's ids and the scopes its app may hold, Slack's limits (message size, modals,
loading messages, prompts), and the pure checks of blocks, modals and streaming chunks
against them. No server and no state here: `web_api` and `web_methods` apply these rules.
"""

from __future__ import annotations

import json
from typing import Any

TEAM_ID = "T0NEWS"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0ARCHIVE"
ENTERPRISE_ID = "E0NEWSORG"

# chat.postMessage is reported to fail with msg_blocks_too_long at about 13.2k characters of
# blocks; the stand-in measures the blocks' JSON, which is never shorter than their text.
BLOCKS_LIMIT = 13_200
RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60
# views.open: a trigger_id is exchanged once, within 3 s of the interaction
# (https://docs.slack.dev/reference/methods/views.open/); a modal's limits.
TRIGGER_SECONDS = 3.0
VIEW_TITLE_CHARS = 24
VIEW_BLOCKS = 100
PRIVATE_METADATA_CHARS = 3000
SECTION_TEXT_CHARS = 3000  # a section block's text
# What manifest.yml grants: the scopes the bot needs, and those it can do without
# (`bot_optional`, docs.slack.dev/changelog/2026/03/16/optional-scopes). By default the
# workspace granted both; a test may take scopes away.
REQUIRED_SCOPES = {
    "app_mentions:read",
    "assistant:write",
    "chat:write",
    "commands",
    "im:history",
}
OPTIONAL_SCOPES = {"channels:history", "groups:history", "reactions:write", "users:read"}
SCOPES = REQUIRED_SCOPES | OPTIONAL_SCOPES
# The bot scope each method needs. setStatus takes chat:write: Slack accepts assistant:write
# too for now, and will soon accept only chat:write
# (docs.slack.dev/changelog/2026/03/05/set-status-scope-update): the stand-in is already there.
NEEDS_SCOPE = {
    "assistant.threads.setStatus": "chat:write",
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.update": "chat:write",
    "chat.startStream": "chat:write",
    "chat.appendStream": "chat:write",
    "chat.stopStream": "chat:write",
    "users.info": "users:read",
    "reactions.add": "reactions:write",
    "reactions.remove": "reactions:write",
}
MAX_LOADING_MESSAGES = 10
MAX_PROMPTS = 4
TASK_STATUSES = {"pending", "in_progress", "complete", "error"}
POSTING = (
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "chat.startStream",
    "chat.appendStream",
    "chat.stopStream",
)


def blocks_size(blocks: Any) -> int:
    """How Slack's message size limit is measured here: the blocks as JSON."""
    if isinstance(blocks, str):
        blocks = json.loads(blocks or "[]")
    return len(json.dumps(blocks or [], ensure_ascii=False))


def block_types(node: Any) -> set[str]:
    if isinstance(node, list):
        return {t for item in node for t in block_types(item)}
    if not isinstance(node, dict):
        return set()
    found = {str(node["type"])} if "type" in node else set()
    for value in node.values():
        found |= block_types(value)
    return found


def json_arg(value: Any) -> Any:
    """An argument sent as JSON or as a form field holding JSON."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def chunks_valid(raw: Any) -> bool:
    """Streaming chunks as Slack takes them: markdown text, and task updates with an id, a
    title, a known status and sources that each have a URL and a text
    (docs.slack.dev/reference/methods/chat.appendStream)."""
    chunks = json_arg(raw)
    if chunks is None:
        return True
    if not isinstance(chunks, list):
        return False
    for chunk in chunks:
        if not isinstance(chunk, dict):
            return False
        if chunk.get("type") == "task_update":
            if not (chunk.get("id") and chunk.get("title")):
                return False
            if chunk.get("status") not in TASK_STATUSES:
                return False
            for source in chunk.get("sources") or []:
                # A source is a URL source element: a web address and its text
                # (docs.slack.dev/reference/methods/chat.appendStream, task_update chunks).
                url = str(source.get("url") or "")
                if source.get("type") != "url" or not source.get("text"):
                    return False
                if not url.lower().startswith(("http://", "https://")):
                    return False
        elif chunk.get("type") not in ("markdown_text", "plan_update", "blocks"):
            return False
    return True


def blocks_refusal(blocks: Any, native_feedback: bool) -> str | None:
    if not blocks:
        return None
    if blocks_size(blocks) > BLOCKS_LIMIT:
        return "msg_blocks_too_long"
    parsed = json.loads(blocks) if isinstance(blocks, str) else blocks
    if not native_feedback and {"context_actions", "feedback_buttons"} & block_types(parsed):
        return "invalid_blocks"
    return None


def view_refusal(view: dict[str, Any]) -> str | None:
    """Why Slack would refuse a modal (None: it would open it)."""
    title = (view.get("title") or {}).get("text", "")
    blocks = view.get("blocks") or []
    inputs = any(b.get("type") == "input" for b in blocks if isinstance(b, dict))
    if view.get("type") != "modal" or not title or len(title) > VIEW_TITLE_CHARS:
        return "title"
    if not blocks or len(blocks) > VIEW_BLOCKS:
        return "blocks"
    if inputs and not view.get("submit"):
        return "an input without a submit button"
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA_CHARS:
        return "private_metadata"
    return None

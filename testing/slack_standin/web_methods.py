"""The Web API methods the stand-in answers, as Slack answers them.

`WebMethods` is the half of `FakeSlackWebAPI` that turns one authenticated request into
Slack's answer (or refusal): auth, posting and updating, streams, modals, the Home tab,
statuses and suggested prompts. The server, the recording and the scripting live in
`web_api`; the rules checked here live in `rules`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from typing import Any

from testing.slack_standin.calls import Call, Stream, tasks_of
from testing.slack_standin.rules import (
    APP_ID,
    BLOCKS_LIMIT,
    BOT_ID,
    BOT_USER_ID,
    MAX_LOADING_MESSAGES,
    MAX_PROMPTS,
    NEEDS_SCOPE,
    POSTING,
    SECTION_TEXT_CHARS,
    TEAM_ID,
    TRIGGER_SECONDS,
    VIEW_BLOCKS,
    blocks_refusal,
    blocks_size,
    chunks_valid,
    json_arg,
    view_refusal,
)


class WebMethods:
    """Slack's answers to the methods the bot calls; state is `FakeSlackWebAPI`'s."""

    bot_token: str
    app_token: str
    socket_url: str | None
    revoked: bool
    enterprise_id: str | None
    users: dict[str, dict[str, Any]]
    scopes: set[str]
    experience: str
    suggested: list[dict[str, Any]]
    native_feedback: bool
    refuse_channels: set[str]
    archived_channels: set[str]
    restricted_channels: set[str]
    foreign_dms: set[str]
    posted: set[tuple[str, str]]
    deleted: set[tuple[str, str]]
    refuse_streaming: str | None
    streams: dict[str, Stream]
    views: dict[str, dict[str, Any]]
    _triggers: dict[str, float]
    _exchanged: set[str]
    _ts: itertools.count[int]
    _changed: threading.Condition

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if token != expected:
            return {"ok": False, "error": "invalid_auth"}
        if self.revoked:
            return {"ok": False, "error": "token_revoked"}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://newsroom.example/",
                "team": "Newsroom",
                "user": "archive",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
                **({"enterprise_id": self.enterprise_id} if self.enterprise_id else {}),
            }
        if method == "apps.connections.open":
            if not self.socket_url:
                return {"ok": False, "error": "socket_mode_not_enabled"}
            return {"ok": True, "url": self.socket_url}
        refusal = self._refusal(method, args)
        if refusal:
            return {"ok": False, "error": refusal}
        channel = str(args.get("channel", ""))
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "chat.postMessage":
            if channel.startswith(("U", "W")):  # a user id: the app's DM with them
                channel = "D" + channel[1:]
            message = {"type": "message", "text": args.get("text"), "ts": ts, "bot_id": BOT_ID}
            with self._changed:
                self.posted.add((channel, ts))
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":  # as Slack: only the bot's own messages, by channel and ts
            key = (channel, str(args.get("ts", "")))
            if key in self.deleted:
                return {"ok": False, "error": "message_not_found"}
            if key not in self.posted:
                return {"ok": False, "error": "cant_update_message"}
            return {"ok": True, "channel": channel, "ts": key[1], "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "users.info":  # anyone not scripted is a plain member of the workspace
            user_id = str(args.get("user"))
            user = {"id": user_id, "team_id": TEAM_ID, **self.users.get(user_id, {})}
            return {"ok": True, "user": user}
        if method == "assistant.threads.setStatus":
            return self._set_status(args)
        if method == "assistant.threads.setSuggestedPrompts":
            return self._suggest(args)
        if method == "views.publish":
            return self._publish(args)
        if method in ("reactions.add", "reactions.remove") or method.startswith(
            "assistant.threads."
        ):
            return {"ok": True}
        if method in ("chat.startStream", "chat.appendStream", "chat.stopStream"):
            return self._stream(method, args, channel, ts)
        if method == "views.open":
            return self._open_view(args)
        return {"ok": False, "error": "unknown_method"}

    def _open_view(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.open: exchange a trigger_id for a modal."""
        trigger = str(args.get("trigger_id") or "")
        with self._changed:
            issued = self._triggers.get(trigger)
            if issued is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            if trigger in self._exchanged:
                return {"ok": False, "error": "exchanged_trigger_id"}
            if time.monotonic() - issued > TRIGGER_SECONDS:
                return {"ok": False, "error": "expired_trigger_id"}
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if not isinstance(view, dict) or view_refusal(view):
                return {"ok": False, "error": "invalid_arguments"}
            self._exchanged.add(trigger)
            view_id = f"V{len(self.views) + 1:08d}"
            opened = {
                **view,
                "id": view_id,
                "team_id": TEAM_ID,
                "app_id": APP_ID,
                "bot_id": BOT_ID,
                "state": {"values": {}},
                "hash": uuid.uuid4().hex[:16],
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
            }
            self.views[view_id] = opened
        return {"ok": True, "view": opened}

    def _publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """views.publish: a Home tab of at most 100 blocks whose sections' text is at most
        3,000 characters (docs.slack.dev/reference/methods/views.publish ;
        docs.slack.dev/reference/block-kit/blocks/section-block)."""
        view = json_arg(args.get("view"))
        if not isinstance(view, dict) or view.get("type") != "home" or not args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        blocks = view.get("blocks") or []
        if not isinstance(blocks, list) or len(blocks) > VIEW_BLOCKS:
            return {"ok": False, "error": "invalid_arguments"}
        for block in blocks:
            text = (block.get("text") or {}).get("text", "") if isinstance(block, dict) else ""
            if block.get("type") == "section" and len(str(text)) > SECTION_TEXT_CHARS:
                return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _refusal(self, method: str, args: dict[str, Any]) -> str | None:
        """The error Slack would answer this call with, if any."""
        scope = NEEDS_SCOPE.get(method)
        if scope and scope not in self.scopes:
            return "missing_scope"
        if method not in POSTING:
            return None
        channel = str(args.get("channel", ""))
        if channel in self.foreign_dms:
            return "channel_not_found"
        if channel in self.refuse_channels:
            return "not_in_channel"
        if channel in self.archived_channels:
            return "is_archived"
        if channel in self.restricted_channels and method != "chat.postEphemeral":
            return "restricted_action"
        return blocks_refusal(args.get("blocks"), self.native_feedback)

    def _set_status(self, args: dict[str, Any]) -> dict[str, Any]:
        """A loading status in a thread: up to 10 `loading_messages`, rotated by Slack."""
        loading = json_arg(args.get("loading_messages"))
        if not (args.get("channel_id") and args.get("thread_ts")) or "status" not in args:
            return {"ok": False, "error": "invalid_arguments"}
        if loading is not None and (
            not isinstance(loading, list) or len(loading) > MAX_LOADING_MESSAGES
        ):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True}

    def _suggest(self, args: dict[str, Any]) -> dict[str, Any]:
        """Suggested prompts: in the agent experience without `thread_ts` (with one the call
        silently does nothing), in the assistant experience for a thread
        (docs.slack.dev/reference/methods/assistant.threads.setSuggestedPrompts)."""
        prompts = json_arg(args.get("prompts"))
        if not isinstance(prompts, list) or not 0 < len(prompts) <= MAX_PROMPTS:
            return {"ok": False, "error": "invalid_arguments"}
        if not all(isinstance(p, dict) and p.get("title") and p.get("message") for p in prompts):
            return {"ok": False, "error": "invalid_arguments"}
        threaded = bool(args.get("thread_ts"))
        if self.experience == "assistant" and not threaded:
            return {"ok": False, "error": "invalid_thread_ts"}
        if self.experience == "assistant" or not threaded:
            with self._changed:
                self.suggested.append({"channel_id": args.get("channel_id"), "prompts": prompts})
        return {"ok": True}

    def _stream(self, method: str, args: dict[str, Any], channel: str, ts: str) -> dict[str, Any]:
        """Slack's chat streaming: a reply in a thread, to a named person in channels."""
        markdown = Call(method, args, None).markdown
        if not chunks_valid(args.get("chunks")):
            return {"ok": False, "error": "invalid_chunks"}
        if method == "chat.startStream":
            if self.refuse_streaming:
                return {"ok": False, "error": self.refuse_streaming}
            if not args.get("thread_ts"):
                return {"ok": False, "error": "invalid_arguments"}
            if not channel.startswith("D") and not (
                args.get("recipient_user_id") and args.get("recipient_team_id")
            ):
                return {"ok": False, "error": "invalid_arguments"}
            if not self._recipient_team_matches(args):
                return {"ok": False, "error": "invalid_arguments"}
            with self._changed:
                self.posted.add((channel, ts))
                self.streams[ts] = Stream(channel, str(args["thread_ts"]), ts, markdown)
                self.streams[ts].tasks = tasks_of([Call(method, args, None)])
            return {"ok": True, "channel": channel, "ts": ts}
        stream = self.streams.get(str(args.get("ts")))
        if stream is None or stream.channel != channel:
            return {"ok": False, "error": "message_not_found"}
        if stream.stopped:
            return {"ok": False, "error": "message_not_in_streaming_state"}
        blocks = Call(method, args, None).blocks
        if method == "chat.stopStream":  # the final message: the streamed text, then blocks
            final = [{"type": "markdown", "text": stream.markdown + markdown}, *blocks]
            if blocks_size(final) > BLOCKS_LIMIT:
                return {"ok": False, "error": "msg_blocks_too_long"}
        with self._changed:
            stream.markdown += markdown
            stream.tasks += tasks_of([Call(method, args, None)])
            if method == "chat.stopStream":
                stream.blocks = blocks
                stream.stopped = True
        return {"ok": True, "channel": channel, "ts": stream.ts}

    def _recipient_team_matches(self, args: dict[str, Any]) -> bool:
        """`recipient_team_id` is the team of the user receiving the stream: a scripted
        person's own team (`users`), else the workspace's."""
        user = args.get("recipient_user_id")
        team = args.get("recipient_team_id")
        if not user or not team:
            return True
        return team == self.users.get(str(user), {}).get("team_id", TEAM_ID)

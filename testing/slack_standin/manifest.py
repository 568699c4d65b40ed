"""Slack's check of an app manifest, as "Create New App -> From a manifest" applies it.

What it refuses, as Slack does: fields the schema does not know or over their limits
(docs.slack.dev/reference/app-manifest), `assistant_view` in a manifest for a new app (new
apps can only use `agent_view`, docs.slack.dev/ai/migrating-to-agent-messaging/), both
views at once, a scope both required and optional, an event subscribed without the scope
it needs or without the view it belongs to, a shortcut out of shape or without the
`commands` scope and interactivity it needs. Given the events the app's code handles, it
also refuses a manifest that subscribes to fewer or more of them (the app would miss
events, or get events nothing handles).
"""

from __future__ import annotations

from typing import Any

# The scope an event subscription needs (docs.slack.dev/reference/events/...).
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.mpim": "mpim:history",
    "assistant_thread_started": "assistant:write",
    "assistant_thread_context_changed": "assistant:write",
}
# Events that only an app with this view receives.
EVENT_VIEWS = {
    "app_context_changed": "agent_view",
    "assistant_thread_started": "assistant_view",
    "assistant_thread_context_changed": "assistant_view",
}
LIFECYCLE_EVENTS = {"app_home_opened", "app_uninstalled", "tokens_revoked", "app_context_changed"}
KNOWN_SCOPES = {
    "app_mentions:read",
    "assistant:write",
    "channels:history",
    "chat:write",
    "commands",
    "groups:history",
    "im:history",
    "mpim:history",
    "reactions:write",
    "users:read",
}
VIEW_FIELDS = {
    "agent_view": {"agent_description", "suggested_prompts", "actions"},
    "assistant_view": {"assistant_description", "suggested_prompts"},
}
MAX_DESCRIPTION = {"agent_view": 300, "assistant_view": 300}
MAX_PROMPTS = 4


def manifest_problems(
    manifest: dict[str, Any], *, new_app: bool = True, handled_events: set[str] | None = None
) -> list[dict[str, str]]:
    """What Slack would refuse in `manifest`, as `{"pointer", "message"}` items (none: it
    creates the app).

    Args:
        manifest: The parsed manifest.
        new_app: Creating a new app (True) or updating one already installed.
        handled_events: The Events API subscriptions the app's code handles; None skips
            the comparison.
    """
    problems: list[dict[str, str]] = []

    def refuse(pointer: str, message: str) -> None:
        problems.append({"pointer": pointer, "message": message})

    _check_information(manifest.get("display_information") or {}, refuse)
    features = manifest.get("features") or {}
    views = [view for view in VIEW_FIELDS if view in features]
    if len(views) > 1:
        refuse("/features", "an app uses agent_view or assistant_view, not both")
    if new_app and "assistant_view" in features:
        refuse("/features/assistant_view", "new apps can only use agent_view")
    for view in views:
        _check_view(view, features[view] or {}, refuse)
    scopes = (manifest.get("oauth_config") or {}).get("scopes") or {}
    required, optional = set(scopes.get("bot") or []), set(scopes.get("bot_optional") or [])
    for scope in sorted((required | optional) - KNOWN_SCOPES):
        refuse("/oauth_config/scopes", f"unknown scope {scope}")
    for scope in sorted(required & optional):
        refuse("/oauth_config/scopes/bot_optional", f"{scope} is both required and optional")
    if features.get("slash_commands") and "commands" not in required:
        refuse("/oauth_config/scopes/bot", "slash commands need the commands scope")
    settings = manifest.get("settings") or {}
    shortcuts = features.get("shortcuts") or []
    _check_shortcuts(shortcuts, refuse)
    if shortcuts and "commands" not in required:
        refuse("/oauth_config/scopes/bot", "shortcuts need the commands scope")
    if shortcuts and not (settings.get("interactivity") or {}).get("is_enabled"):
        refuse("/settings/interactivity", "shortcuts need interactivity enabled")
    events = set((settings.get("event_subscriptions") or {}).get("bot_events") or [])
    for event in sorted(events):
        _check_event(event, required | optional, views, refuse)
    if handled_events is not None:
        for event in sorted(handled_events - events):
            refuse("/settings/event_subscriptions", f"{event} is handled but not subscribed")
        for event in sorted(events - handled_events):
            refuse("/settings/event_subscriptions", f"{event} is subscribed but not handled")
    return problems


def _check_information(info: dict[str, Any], refuse: Any) -> None:
    name, description = str(info.get("name") or ""), str(info.get("description") or "")
    if not 0 < len(name) <= 35:
        refuse("/display_information/name", "a name of 1 to 35 characters")
    if len(description) > 140:
        refuse("/display_information/description", "at most 140 characters")
    long = info.get("long_description")
    if long is not None and not 175 <= len(str(long)) <= 4000:
        refuse("/display_information/long_description", "175 to 4,000 characters")


def _check_view(view: str, fields: dict[str, Any], refuse: Any) -> None:
    for field in sorted(set(fields) - VIEW_FIELDS[view]):
        refuse(f"/features/{view}/{field}", "unknown field")
    described = "agent_description" if view == "agent_view" else "assistant_description"
    if len(str(fields.get(described) or "")) > MAX_DESCRIPTION[view]:
        refuse(f"/features/{view}/{described}", "too long")
    prompts = fields.get("suggested_prompts") or []
    if len(prompts) > MAX_PROMPTS:
        refuse(f"/features/{view}/suggested_prompts", "at most 4 prompts")
    for prompt in prompts:
        if set(prompt) != {"title", "message"} or not all(prompt.values()):
            refuse(f"/features/{view}/suggested_prompts", "each prompt: a title and a message")


def _check_shortcuts(shortcuts: list[Any], refuse: Any) -> None:
    """features.shortcuts as the manifest reference writes them: a name of at most 24
    characters, a type (message or global), a callback_id of at most 255 and a description
    of at most 150 (docs.slack.dev/reference/app-manifest#shortcuts)."""
    for n, shortcut in enumerate(shortcuts):
        where = f"/features/shortcuts/{n}"
        if not isinstance(shortcut, dict):
            refuse(where, "a shortcut is an object")
            continue
        if not 0 < len(str(shortcut.get("name") or "")) <= 24:
            refuse(f"{where}/name", "a name of 1 to 24 characters")
        if shortcut.get("type") not in ("message", "global"):
            refuse(f"{where}/type", "message or global")
        if not 0 < len(str(shortcut.get("callback_id") or "")) <= 255:
            refuse(f"{where}/callback_id", "a callback_id of 1 to 255 characters")
        if not 0 < len(str(shortcut.get("description") or "")) <= 150:
            refuse(f"{where}/description", "a description of 1 to 150 characters")


def _check_event(event: str, granted: set[str], views: list[str], refuse: Any) -> None:
    if event not in EVENT_SCOPES and event not in LIFECYCLE_EVENTS:
        refuse("/settings/event_subscriptions/bot_events", f"unknown event {event}")
    scope = EVENT_SCOPES.get(event)
    if scope and scope not in granted:
        refuse("/settings/event_subscriptions/bot_events", f"{event} needs the {scope} scope")
    view = EVENT_VIEWS.get(event)
    if view and view not in views:
        refuse("/settings/event_subscriptions/bot_events", f"{event} needs {view}")

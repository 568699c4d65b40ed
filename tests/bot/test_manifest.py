"""The shipped manifests create the app, as Slack's manifest check sees them (the stand-in's)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from bot.listeners import SUBSCRIPTIONS
from testing.slack_standin import payloads
from testing.slack_standin.rules import OPTIONAL_SCOPES, REQUIRED_SCOPES
from testing.slack_standin.web_api import FakeSlackWebAPI
from tests.bot.conftest import RunningBot
from tests.conftest import ROOT

MANIFESTS = {"manifest.yml": "agent_view", "manifest-assistant-view.yml": "assistant_view"}


def _manifest(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


@pytest.fixture
def web() -> Any:
    with FakeSlackWebAPI("xoxb-t", "xapp-t") as web:
        yield web


@pytest.mark.integration  # the Slack stand-in
def test_a_new_app_is_created_from_manifest_yml_in_the_agent_experience(
    web: FakeSlackWebAPI,
) -> None:
    """Pasting manifest.yml into "Create New App" works: agent_view, the events the code
    handles and no others, every scope they need, the optional ones as optional."""
    manifest = _manifest("manifest.yml")
    created = web.create_app(manifest, handled_events=SUBSCRIPTIONS["agent_view"])
    assert created["ok"], created.get("errors")
    assert web.experience == "agent" and web.scopes == REQUIRED_SCOPES | OPTIONAL_SCOPES
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes["bot"]) == REQUIRED_SCOPES and set(scopes["bot_optional"]) == OPTIONAL_SCOPES
    agent = manifest["features"]["agent_view"]
    assert agent["agent_description"] and 0 < len(agent["suggested_prompts"]) <= 4
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/ask"
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True


@pytest.mark.integration  # the Slack stand-in
def test_slack_refuses_the_assistant_view_manifest_for_a_new_app(web: FakeSlackWebAPI) -> None:
    """manifest-assistant-view.yml is for apps already installed: a new app gets Slack's
    refusal, an installed app is updated with it."""
    manifest = _manifest("manifest-assistant-view.yml")
    events = SUBSCRIPTIONS["assistant_view"]
    refused = web.create_app(manifest, handled_events=events)
    assert refused["error"] == "invalid_manifest"
    assert [e["pointer"] for e in refused["errors"]] == ["/features/assistant_view"]
    updated = web.create_app(manifest, new_app=False, handled_events=events)
    assert updated["ok"], updated.get("errors")
    assert web.experience == "assistant"


@pytest.mark.integration  # the Slack stand-in
def test_slack_refuses_a_shortcut_without_interactivity_or_out_of_shape(
    web: FakeSlackWebAPI,
) -> None:
    """The manifest check knows features.shortcuts: a shortcut needs interactivity, and a
    name over 24 characters or an unknown type is refused, as Slack refuses them."""
    manifest = _manifest("manifest.yml")
    manifest["settings"]["interactivity"]["is_enabled"] = False
    [shortcut] = manifest["features"]["shortcuts"]
    shortcut["name"] = "Ask the newsroom's archive about this"
    shortcut["type"] = "msg"
    refused = web.create_app(manifest, handled_events=SUBSCRIPTIONS["agent_view"])
    assert refused["error"] == "invalid_manifest"
    assert {e["pointer"] for e in refused["errors"]} == {
        "/features/shortcuts/0/name",
        "/features/shortcuts/0/type",
        "/settings/interactivity",
    }


@pytest.mark.integration  # the Slack stand-in
@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_each_manifest_subscribes_to_exactly_what_the_code_handles(
    web: FakeSlackWebAPI, name: str
) -> None:
    """An event the code handles but the manifest forgets (or the reverse), a scope missing
    for an event, or a field the schema does not know: the manifest check says so."""
    manifest = _manifest(name)
    events = SUBSCRIPTIONS[MANIFESTS[name]]
    subscribed = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(subscribed) == events
    manifest["settings"]["event_subscriptions"]["bot_events"] = subscribed[1:]
    missing = web.create_app(manifest, new_app=False, handled_events=events)
    assert f"{subscribed[0]} is handled but not subscribed" in str(missing["errors"])
    manifest = _manifest(name)
    manifest["oauth_config"]["scopes"]["bot"].remove("im:history")
    manifest["features"][MANIFESTS[name]]["assistant_name"] = "Archive"
    problems = str(web.create_app(manifest, new_app=False, handled_events=events)["errors"])
    assert "message.im needs the im:history scope" in problems and "unknown field" in problems


def _sample(event: str) -> dict[str, Any]:
    """An event of each subscription, as Slack delivers it."""
    user = "U0REPORTER"
    if event == "assistant_thread_context_changed":
        started = payloads.assistant_thread_started(user, "D0REPORTER")
        return {**started, "type": event}
    samples: dict[str, Callable[[], dict[str, Any]]] = {
        "app_mention": lambda: payloads.app_mention("help", user, "C0NEWSDESK"),
        "message.im": lambda: payloads.message("help", user, "D0REPORTER", "im"),
        "message.channels": lambda: payloads.message("thanks", user, "C0NEWSDESK"),
        "message.groups": lambda: payloads.message("thanks", user, "G0PRIVATE", "group"),
        "app_home_opened": lambda: payloads.app_home_opened(user, "messages"),
        "app_context_changed": lambda: payloads.app_context_changed(user),
        "assistant_thread_started": lambda: payloads.assistant_thread_started(user, "D0REPORTER"),
        "tokens_revoked": lambda: payloads.tokens_revoked(bot=[]),  # another app's bot
        "app_uninstalled": payloads.app_uninstalled,
    }
    return samples[event]()


def test_every_subscribed_event_reaches_a_listener(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """What either manifest subscribes to is handled by the code: Bolt never logs an event
    as unhandled (the other half of the manifest check's events-both-ways)."""
    caplog.set_level(logging.WARNING, logger="bot.bolt")
    events = sorted(SUBSCRIPTIONS["agent_view"] | SUBSCRIPTIONS["assistant_view"])
    events.remove("app_uninstalled")  # last: the bot stops after it
    for event in [*events, "app_uninstalled"]:
        bot.socket.wait_ack(bot.deliver_event(_sample(event)))
    assert "Unhandled request" not in caplog.text

"""HTTP mode: signed Events API, slash command and interactivity requests on /slack/events."""

from __future__ import annotations

import json
import time

import pytest

from testing.bots import SIGNING_SECRET
from testing.slack_standin import interactions, payloads
from testing.slack_standin.interactions import buttons_of
from tests.bot.http_bot import HttpBot, mention_body

pytestmark = pytest.mark.integration  # a bot served over HTTP to the Slack stand-in


def test_a_signed_event_is_acked_at_once_and_answered_in_the_thread(http_bot: HttpBot) -> None:
    """A valid signature -> 200 well within Slack's 3 s, then the threaded answer."""
    body, content_type, event = mention_body("who was Cienfuegos?")
    reply = http_bot.post(body, content_type)
    assert reply.status == 200 and reply.seconds < 1.0
    answer = http_bot.web.wait_for("chat.postMessage")[0]
    assert answer.args["thread_ts"] == event["ts"] and "Cienfuegos" in answer.shown


@pytest.mark.parametrize(
    "secret, age", [("0" * 32, 0), (SIGNING_SECRET, 600)], ids=["bad signature", "stale timestamp"]
)
def test_forged_or_replayed_requests_are_refused(http_bot: HttpBot, secret: str, age: int) -> None:
    """A wrong signature or a five-minute-old timestamp -> 401 and no answer."""
    body, content_type, _ = mention_body("who was Cienfuegos?")
    reply = http_bot.post(body, content_type, secret=secret, timestamp=int(time.time()) - age)
    assert reply.status == 401
    http_bot.settle()
    assert not http_bot.web.calls_to("chat.postMessage")


def test_a_retry_with_x_slack_retry_num_is_answered_once(http_bot: HttpBot) -> None:
    """The same event again with X-Slack-Retry-Num: 1 is acked (200) but not answered twice."""
    body, content_type, _ = mention_body("who was Cienfuegos?", "Ev0HTTPRETRY")
    assert http_bot.post(body, content_type).status == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert http_bot.post(body, content_type, headers=retry).status == 200
    http_bot.web.wait_for("chat.postMessage")
    http_bot.settle()
    assert len(http_bot.web.calls_to("chat.postMessage")) == 1


def test_url_verification_is_answered_with_the_challenge(http_bot: HttpBot) -> None:
    """Slack's one-time check of the request URL gets its challenge back."""
    body = json.dumps({"type": "url_verification", "token": "t", "challenge": "c0ffee"})
    reply = http_bot.post(body, "application/json")
    assert reply.status == 200 and "c0ffee" in reply.body


def test_ask_and_share_over_http(http_bot: HttpBot) -> None:
    """/ask -> 200 with progress text, answer to response_url; the share click posts it."""
    command = interactions.slash_command(
        "who was Cienfuegos?", "U0ASKER", "C0NEWSDESK", http_bot.web.response_url("ask")
    )
    reply = http_bot.post(*payloads.form_body(command))
    assert reply.status == 200 and "Searching the archive" in reply.body
    private = http_bot.web.wait_for_response("ask")[0]
    share = buttons_of(private["blocks"])["share_answer"]
    click = interactions.block_actions(
        share, "U0ASKER", "C0NEWSDESK", http_bot.web.response_url("share"), ephemeral=True
    )
    assert http_bot.post(*payloads.interactive_body(click)).status == 200
    shared = http_bot.web.wait_for("chat.postMessage")[0]
    assert "<@U0ASKER> asked" in shared.shown and "Cienfuegos" in shared.shown


def test_healthz_reports_the_process_and_the_store(http_bot: HttpBot) -> None:
    """GET /healthz -> 200 with the store's state; other paths -> 404."""
    reply = http_bot.get("/healthz")
    assert reply.status == 200
    assert json.loads(reply.body) == {"status": "ok", "store": "ok", "search": "hybrid"}
    assert http_bot.get("/nothing-here").status == 404


@pytest.mark.parametrize(
    "age, status",
    [(240, 200), (310, 401), (-310, 401)],
    ids=["4 min old", "5 min 10 s old", "5 min 10 s ahead"],
)
def test_signatures_are_honoured_only_within_five_minutes(
    http_bot: HttpBot, age: int, status: int
) -> None:
    """A correctly signed request is accepted within Slack's 5-minute window, refused past it
    (either way: a clock far ahead is as suspect as a replay)."""
    body, content_type, _ = mention_body("who was Cienfuegos?", f"Ev0AGE{age + 1000}")
    reply = http_bot.post(body, content_type, timestamp=int(time.time()) - age)
    assert reply.status == status
    if status == 200:
        assert "Cienfuegos" in http_bot.web.wait_for("chat.postMessage")[0].shown
    else:
        http_bot.settle()
        assert not http_bot.web.calls_to("chat.postMessage")


def test_a_replayed_signed_request_is_not_answered_twice(http_bot: HttpBot) -> None:
    """The very same signed request sent again within the window (no retry header): acked,
    not answered a second time."""
    body, content_type, _ = mention_body("who was Cienfuegos?", "Ev0REPLAYED")
    timestamp = int(time.time()) - 60
    assert http_bot.post(body, content_type, timestamp=timestamp).status == 200
    http_bot.web.wait_for("chat.postMessage")
    assert http_bot.post(body, content_type, timestamp=timestamp).status == 200
    http_bot.settle()
    assert len(http_bot.web.calls_to("chat.postMessage")) == 1

"""The bot's small stores over time: repeated deliveries, rate limits, threads, feedback."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.feedback import FeedbackStore, Vote
from bot.guards import RateLimiter, SeenEvents, ThreadMemory, Turn
from bot.tokens import check_slack_settings
from core.errors import ConfigError
from tests.conftest import make_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_event_id_is_seen_once_until_forgotten() -> None:
    """The same event id twice -> handled once; after the ttl it counts as new."""
    clock = Clock()
    seen = SeenEvents(ttl=60, size=3, clock=clock)
    assert seen.first_time("Ev1") and not seen.first_time("Ev1")
    clock.now += 61
    assert seen.first_time("Ev1")
    for event_id in ("Ev2", "Ev3", "Ev4"):
        assert seen.first_time(event_id)
    assert seen.first_time("Ev1")  # pushed out by size


def test_rate_limit_counts_per_user_over_a_sliding_minute() -> None:
    """Two a minute: the third waits until the first is a minute old; others unaffected."""
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    assert limiter.wait_time("U1") == 0 and limiter.wait_time("U1") == 0
    clock.now += 20
    assert limiter.wait_time("U1") == pytest.approx(40)
    assert limiter.first_refusal("U1") and not limiter.first_refusal("U1")
    assert limiter.wait_time("U2") == 0
    clock.now += 40
    assert limiter.wait_time("U1") == 0
    assert limiter.first_refusal("U1")  # a new stretch of refusals gets a new notice


def test_a_zero_rate_limit_means_no_limit() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.wait_time("U1") == 0 for _ in range(100))


def test_thread_memory_recalls_the_last_question_for_a_day() -> None:
    """A thread's last question is recalled; after the ttl or eviction it is gone."""
    clock = Clock()
    memory = ThreadMemory(ttl=100, size=2, clock=clock)
    memory.remember("C1", "1.0", Turn("U1", "who was Cienfuegos?"))
    memory.remember("C1", "1.0", Turn("U1", "when was he arrested?"))
    assert memory.recall("C1", "1.0") == Turn("U1", "when was he arrested?")
    assert memory.recall("C2", "1.0") is None
    clock.now += 101
    assert memory.recall("C1", "1.0") is None
    memory.remember("C1", "2.0", Turn("U1", "a"))
    memory.remember("C1", "3.0", Turn("U1", "b"))
    memory.remember("C1", "4.0", Turn("U1", "c"))
    assert memory.recall("C1", "2.0") is None and memory.recall("C1", "4.0") is not None


def test_feedback_keeps_one_vote_per_person_and_answer(tmp_path: Path) -> None:
    """Clicking 👎 after 👍 changes the vote; another person's vote is kept apart."""
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    store.record(Vote("a1", "U1", "up", "who?", "him", "C1", "1.0"))
    store.record(Vote("a1", "U1", "down", "who?", "him", "C1", "1.0"))
    store.record(Vote("a1", "U2", "up", "who?", "him", "C1", "1.0"))
    votes = {(v.user_id, v.vote) for v in FeedbackStore(store.path).votes()}
    assert votes == {("U1", "down"), ("U2", "up")}


def test_feedback_file_defaults_beside_the_store(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert settings.feedback_path == tmp_path / "feedback.sqlite3"


@pytest.mark.parametrize(
    "values, message",
    [
        ({"slack_bot_token": "xoxb-1-2", "slack_app_token": "xapp-1-2"}, None),
        ({"slack_bot_token": "xoxb-1-2", "slack_signing_secret": "abc123"}, None),
        ({"slack_bot_token": " xoxb-1-2 ", "slack_app_token": "xapp-1-2"}, None),
        ({"slack_bot_token": '"xoxb-1-2"', "slack_app_token": "xapp-1-2"}, "SLACK_BOT_TOKEN"),
        (
            {"slack_bot_token": "xoxb-1-2", "slack_signing_secret": "has space"},
            "SLACK_SIGNING_SECRET",
        ),
        (
            {
                "slack_bot_token": "xoxb-1-2",
                "slack_app_token": "xapp-1-2",
                "slack_api_base_url": "localhost:3000",
            },
            "SLACK_API_BASE_URL",
        ),
    ],
)
def test_credential_checks(tmp_path: Path, values: dict[str, str], message: str | None) -> None:
    """Well-formed credentials pass; each malformed one is named."""
    settings = make_settings(tmp_path, **values)
    if message is None:
        check_slack_settings(settings)
        return
    with pytest.raises(ConfigError, match=message):
        check_slack_settings(settings)


def test_every_secret_is_trimmed_the_same_way(tmp_path: Path) -> None:
    """Whitespace around a pasted token or secret is dropped alike, whichever it is."""
    settings = make_settings(
        tmp_path,
        slack_bot_token=" xoxb-1-2\n",
        slack_app_token="xapp-1-2\r\n",
        slack_signing_secret="\tabc123 \n",
    )
    assert settings.slack_bot_token == "xoxb-1-2"
    assert settings.slack_app_token == "xapp-1-2"
    assert settings.slack_signing_secret == "abc123"
    check_slack_settings(settings)

"""The bot's small stores over time: repeated deliveries, rate limits, threads, feedback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.feedback import FeedbackStore, Vote
from bot.guards import RateLimiter
from bot.state import AnswerLog, PostedAnswer, SeenEvents, SharedState, ThreadMemory, Turn
from bot.tokens import check_slack_settings
from core.errors import ConfigError
from tests.conftest import make_settings
from tests.helpers import Clock


def test_a_repeated_event_id_is_seen_once_until_forgotten(tmp_path: Path) -> None:
    """The same event id twice -> handled once, also through another connection to the
    file (another process); after the ttl it counts as new."""
    clock = Clock()
    path = tmp_path / "state" / "bot-state.sqlite3"
    seen = SeenEvents(SharedState(path, clock=clock), ttl=60)
    elsewhere = SeenEvents(SharedState(path, clock=clock), ttl=60)
    assert seen.first_time("Ev1") and not elsewhere.first_time("Ev1")
    assert not seen.first_time("Ev1")
    clock.now += 61
    assert elsewhere.first_time("Ev1") and not seen.first_time("Ev1")


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


def test_thread_memory_and_posted_answers_are_recalled_for_a_day(tmp_path: Path) -> None:
    """A thread's last question and a message's answer are recalled, from the same file
    after a restart too; after the ttl they are gone."""
    clock = Clock()
    path = tmp_path / "bot-state.sqlite3"
    memory = ThreadMemory(SharedState(path, clock=clock), ttl=100)
    memory.remember("C1", "1.0", Turn("U1", "who was Cienfuegos?"))
    memory.remember("C1", "1.0", Turn("U1", "when was he arrested?"))
    answers = AnswerLog(SharedState(path, clock=clock), ttl=100)
    answers.remember("C1", "1.0", PostedAnswer("2.0", "1.0", "U1", "who?"))
    restarted = SharedState(path, clock=clock)
    assert ThreadMemory(restarted).recall("C1", "1.0") == Turn("U1", "when was he arrested?")
    assert ThreadMemory(restarted).recall("C2", "1.0") is None
    assert AnswerLog(restarted).recall("C1", "1.0") == PostedAnswer("2.0", "1.0", "U1", "who?")
    clock.now += 101
    assert memory.recall("C1", "1.0") is None and answers.recall("C1", "1.0") is None


def test_expired_rows_are_swept_when_a_process_opens_the_file(tmp_path: Path) -> None:
    """A bot restarted before its 200th write still does not keep a day-old thread, answer
    or event id in the file forever: opening the file sweeps them."""
    clock = Clock()
    path = tmp_path / "bot-state.sqlite3"
    state = SharedState(path, clock=clock)
    ThreadMemory(state).remember("C1", "1.0", Turn("U1", "who?"))
    AnswerLog(state).remember("C1", "1.0", PostedAnswer("2.0", "1.0", "U1", "who?"))
    SeenEvents(state).first_time("Ev1")
    clock.now += 2 * 24 * 3600
    SharedState(path, clock=clock)
    with sqlite3.connect(path) as db:
        tables = ("seen_events", "thread_turns", "answers")
        counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]
    assert counts == [0, 0, 0]


def test_feedback_keeps_one_vote_per_person_and_answer(tmp_path: Path) -> None:
    """Clicking 👎 after 👍 changes the vote; another person's vote is kept apart."""
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    store.record(Vote("a1", "U1", "up", "who?", "him", "C1", "1.0"))
    store.record(Vote("a1", "U1", "down", "who?", "him", "C1", "1.0"))
    store.record(Vote("a1", "U2", "up", "who?", "him", "C1", "1.0"))
    votes = {(v.user_id, v.vote) for v in FeedbackStore(store.path).votes()}
    assert votes == {("U1", "down"), ("U2", "up")}


def test_the_latest_votes_are_read_without_the_rest(tmp_path: Path) -> None:
    """The Home tab shows the last few 👎 of the week: `votes(latest=N)` returns only the N
    most recent, oldest first, instead of every vote of the week."""
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    for n in range(8):
        clicked = f"2026-11-2{n}T10:00:00+00:00"
        store.record(Vote(f"a{n}", "U1", "down", f"q{n}?", "x", "C1", "1.0", clicked))
    assert [v.answer_id for v in store.votes(vote="down", latest=3)] == ["a5", "a6", "a7"]
    assert [v.answer_id for v in store.votes(vote="down")] == [f"a{n}" for n in range(8)]


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
        check_slack_settings(settings.slack)
        return
    with pytest.raises(ConfigError, match=message):
        check_slack_settings(settings.slack)


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
    check_slack_settings(settings.slack)

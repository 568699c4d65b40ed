"""Issue 19's bot points tried again with variants: a Share whose question is invisible."""

from __future__ import annotations

import json

import pytest

from tests.bot.conftest import RunningBot


@pytest.mark.parametrize("q", ["\u200b", "\u2060\ufeff", " \u200b\u200c "])
def test_a_share_with_an_invisible_question_posts_nothing(bot: RunningBot, q: str) -> None:
    """Point 16: a Share click whose `q` is only zero-width characters: nothing is posted in
    the channel (no "asked: *​*" with an invisible question); the clicker is told."""
    share = {"action_id": "share_answer", "text": {}, "value": json.dumps({"q": q})}
    bot.click(share, "U0REPORTER", "C0NEWSDESK", "share", ephemeral=True)
    [notice] = bot.web.wait_for_response("share")
    assert "doesn't work any more" in notice["text"]
    assert not bot.web.calls_to("chat.postMessage")

"""Answer -> Block Kit: safe for any article text, within Slack's limits, readable."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.mrkdwn import emphasize, escape, link, plain_question
from bot.presentation import Presentation
from bot.render import MAX_BLOCKS, SECTION_LIMIT, VALUE_LIMIT, render_answer
from core.answer.shown import excerpt_of
from core.models import Answer, Passage, StoreSummary, WrittenAnswer, WrittenSentence
from testing.slack_standin.rules import BLOCKS_LIMIT, blocks_size

TRICKS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0HACK>",
    "<#C0SECRET>",
    "<!subteam^S1>",
    "<https://evil.example|bank login>",
    "<mailto:x@y.z|mail>",
    "@channel",
    "@here",
    "&",
    "<",
    ">",
    "*",
    "_",
    "~",
    "`",
    "\n",
    "> quote",
    "&lt;!channel&gt;",
]

hostile_text = st.lists(
    st.one_of(st.sampled_from(TRICKS), st.text(min_size=1, max_size=40)),
    max_size=60,
).map(" ".join)


def _passage(text: str, title: str = "Title", url: str | None = None, n: int = 0) -> Passage:
    return Passage(
        doc_id=f"d{n}",
        title=title,
        source="Gazette",
        published_at="2023-05-04",
        url=url,
        path="/srv/articles/x.md",
        chunk_index=0,
        chunk_indices=[0],
        text=text,
        score=1.0,
        similarity=0.9,
    )


def _answer(
    passages: list[Passage], lead: str | None = None, question: str = "who approved the bridge?"
) -> Answer:
    lead_passage = passages[0] if passages and lead is not None else None
    summary = StoreSummary(len(passages), len(passages), "2023-05-04", "2023-05-04")
    return Answer(question, lead, lead_passage, passages, passages, [], summary)


def _shown(message) -> list[str]:  # noqa: ANN001
    texts = [message.text]
    for block in message.blocks:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return texts


@settings(max_examples=150, deadline=None)
@given(text=hostile_text, title=hostile_text, question=hostile_text)
def test_article_text_can_never_ping_link_or_break_out(
    text: str, title: str, question: str
) -> None:
    """Whatever an article holds, the message has no Slack control sequence from it."""
    passages = [_passage(text or "x", title=title, n=i) for i in range(3)]
    message = render_answer(
        _answer(passages, lead=text or "x", question=question),
        "id1",
        Presentation(share=True, asked_by="U0ASKER"),
    )
    for shown in _shown(message):
        controls = re.findall(r"<[^>]*>", shown)
        assert all(c == "<@U0ASKER>" for c in controls), controls
        assert not re.search(r"@(channel|here|everyone)\b", shown, re.IGNORECASE)
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", shown)
    assert all(block.get("text", {}).get("verbatim", True) for block in message.blocks)


@settings(max_examples=40, deadline=None)
@given(size=st.integers(min_value=1, max_value=60), length=st.integers(1, 20_000))
def test_slack_limits_hold_for_huge_answers(size: int, length: int) -> None:
    """Any number of passages of any length: ≤ 50 blocks, ≤ 3,000 chars a section."""
    text = ("Council & board <approved> the bridge. " * (length // 38 + 1))[:length]
    passages = [
        _passage(text, title="T" * 400, url="https://x.example/a", n=i) for i in range(size)
    ]
    message = render_answer(
        _answer(passages, lead=text), "id1", Presentation(share=True, asked_by="U0A")
    )
    assert len(message.blocks) <= MAX_BLOCKS
    for block in message.blocks:
        if "text" in block:
            assert len(block["text"]["text"]) <= SECTION_LIMIT
        for element in block.get("elements", []):
            assert len(element.get("value", "")) <= VALUE_LIMIT
            assert len(element.get("text", "")) <= SECTION_LIMIT
    assert 0 < len(message.text) <= 3000
    assert blocks_size(message.blocks) <= BLOCKS_LIMIT  # Slack: msg_blocks_too_long


def test_an_answer_shows_lead_quoted_passages_with_bold_words_and_linked_sources() -> None:
    """Lead in quotes with its source; each passage quoted, question words bold, title linked."""
    passage = _passage(
        "The zoning board approved the bridge on Tuesday. It costs a lot.",
        title="Board approves bridge",
        url="https://gazette.example/b?a=1&b=2",
    )
    message = render_answer(
        _answer([passage], lead="The zoning board approved the bridge on Tuesday."), "id1"
    )
    lead, first = message.blocks[0]["text"]["text"], message.blocks[1]["text"]["text"]
    assert lead.startswith(">“The zoning board *approved* the *bridge* on Tuesday.”")
    assert "<https://gazette.example/b?a=1&amp;b=2|Board approves bridge>" in lead
    assert "Gazette · 4 May 2023" in lead
    assert first.startswith("*1.* *<https://gazette.example/b?a=1&amp;b=2|Board approves")
    assert "\n>The zoning board *approved* the *bridge*" in first
    [feedback] = message.blocks[-1]["elements"]
    assert message.blocks[-1]["type"] == "context_actions"
    assert feedback["type"] == "feedback_buttons"
    up = json.loads(feedback["positive_button"]["value"])
    assert up["q"] == "who approved the bridge?" and up["v"] == "up"


def test_an_answer_falls_back_to_classic_buttons_then_to_plain_text() -> None:
    """Where Slack's feedback_buttons are refused: the same answer with 👍/👎 buttons; where
    blocks are refused altogether: the lead and sources as text."""
    passage = _passage("The board approved the bridge.", title="Board approves bridge")
    message = render_answer(_answer([passage], lead="The board approved the bridge."), "id1")
    classic, plain = message.fallbacks
    actions = classic.blocks[-1]["elements"]
    assert [a["action_id"] for a in actions] == ["feedback_up", "feedback_down"]
    assert json.loads(actions[0]["value"])["q"] == "who approved the bridge?"
    assert classic.blocks[:-1] == message.blocks[:-1] and not classic.native_feedback
    assert not plain.blocks and "The board approved the bridge." in plain.text
    assert "Board approves bridge" in plain.text


def test_file_paths_are_not_linked() -> None:
    """A source known only by its path on the server shows its title, unlinked."""
    assert link("/srv/articles/x.md", "A title") == "A title"
    assert link("javascript:alert(1)", "A title") == "A title"
    assert link("https://a.example/x|y>z", "T") == "<https://a.example/x%7Cy%3Ez|T>"


def test_nothing_found_says_what_the_archive_holds() -> None:
    """No lead: one honest section, the article count and range, no feedback buttons."""
    message = render_answer(_answer([_passage("x")], lead=None), "id1")
    [block] = message.blocks
    assert (
        "nothing relevant to that among 1 article, published 2023-05-04 to 2023-05-04"
        in (block["text"]["text"])
    )


def test_long_passages_are_excerpted_around_the_best_sentence() -> None:
    """The excerpt centres on the sentence holding the question's words, marked with …"""
    filler = " ".join(f"Sentence number {i} is filler text about nothing." for i in range(40))
    text = f"{filler} The mayor opened the footbridge in spring. {filler}"
    excerpt = excerpt_of(text, {"footbridge", "mayor"}, budget=300)
    assert "The mayor opened the footbridge in spring." in excerpt
    assert excerpt.startswith("… ") and excerpt.endswith(" …") and len(excerpt) <= 310


def test_plain_question_undoes_slack_markup() -> None:
    """Mentions dropped, links and channels to their labels, escapes undone."""
    text = "<@U0BOT> what did <@U0X> say about <https://a.example|this> in <#C1|news> &amp; why?"
    assert plain_question(text, "U0BOT") == "what did say about this in #news & why?"


def test_escape_and_emphasize() -> None:
    """Escaping keeps text as shown; bold marks whole words by stem."""
    assert escape("a & <b> @here") == "a &amp; &lt;b&gt; @\u2060here"
    assert emphasize("Bridges & bridge's <bridge>", {"bridge"}) == (
        "*Bridges* &amp; *bridge's* &lt;*bridge*&gt;"
    )


def _long_passage(n: int) -> Passage:
    words = " ".join(
        f"The council debated the footbridge budget item {i} at length." for i in range(40)
    )
    return _passage(
        words,
        title=f"Council approves the Riverside footbridge budget after a long debate, part {n} "
        * 3,
        url=f"https://gazette.example/{'news/' * 20}footbridge-budget-debate-part-{n}?ref="
        + "x" * 150,
        n=n,
    )


def test_a_ten_passage_answer_fits_in_one_slack_message_with_every_passage() -> None:
    """Ten long passages with long titles and URLs: under Slack's size limit, with a
    margin, and all ten still there, shortened rather than dropped."""
    passages = [_long_passage(n) for n in range(10)]
    message = render_answer(
        _answer(passages, lead=passages[0].text[:400]),
        "id1",
        Presentation(share=True, asked_by="U0A"),
    )
    assert blocks_size(message.blocks) <= BLOCKS_LIMIT * 0.95
    shown = json.dumps(message.blocks)
    assert all(f"part-{n}" in shown for n in range(10))


def test_passages_are_dropped_only_when_shortening_is_not_enough() -> None:
    """Forty long passages: the message still fits, keeping the best ones first."""
    passages = [_long_passage(n) for n in range(40)]
    message = render_answer(_answer(passages, lead=passages[0].text[:400]), "id1")
    assert blocks_size(message.blocks) <= BLOCKS_LIMIT * 0.95
    shown = json.dumps(message.blocks)
    assert "part-0?" in shown and "part-39?" not in shown


def _written(
    citations: list[int], text: str = "The council approved the footbridge budget."
) -> Any:
    sentences = [WrittenSentence(text, (n,)) for n in citations]
    return WrittenAnswer("standin-7b", sentences)


def test_a_written_answer_keeps_whole_sentences_and_the_passages_it_cites() -> None:
    """Forty sentences over ten long passages: only whole sentences within a section, the
    passages they cite kept (shortened), and the message under Slack's size limit."""
    passages = [_long_passage(n) for n in range(10)]
    answer = _answer(passages, lead=passages[0].text[:400])
    answer.written = _written([n % 3 + 1 for n in range(40)])
    message = render_answer(answer, "id1", Presentation(share=True, asked_by="U0A"))
    assert blocks_size(message.blocks) <= BLOCKS_LIMIT * 0.95
    assert "asked" in message.blocks[0]["text"]["text"]
    assert "Written by standin-7b" in json.dumps(message.blocks[1])
    written = message.blocks[2]["text"]["text"]
    assert written.endswith("]>") and written.count("budget. <") == written.count("|[")
    assert len(written) <= SECTION_LIMIT and written.count("budget.") < 40
    shown = json.dumps(message.blocks[3:])
    assert all(f"*{n}.*" in shown for n in (1, 2, 3))
    plain = message.fallbacks[-1].text
    assert "Written by standin-7b" in plain and "The council approved" in plain


def test_a_written_answer_that_cannot_fit_leaves_the_quoted_answer_alone() -> None:
    """Citing a tenth passage that cannot be shown within the size limit: the message is
    the quoted answer alone rather than a citation without its passage."""
    passages = [_long_passage(n) for n in range(10)]
    for passage in passages:
        passage.url = f"https://gazette.example/{'long/' * 300}{passage.doc_id}"
    answer = _answer(passages, lead=passages[0].text[:400])
    answer.written = _written([10])
    message = render_answer(answer, "id1")
    assert blocks_size(message.blocks) <= BLOCKS_LIMIT
    assert "Written by" not in json.dumps(message.blocks)
    assert message.blocks[0]["text"]["text"].startswith(">“")
    assert "Written by" not in message.fallbacks[-1].text


def test_a_corrected_article_shows_when_it_was_updated_beside_its_publish_date() -> None:
    """A reader sees "updated 12 Nov" beside the publish date of a corrected source."""
    corrected = replace(
        _passage("The board approved the bridge.", title="Board approves bridge"),
        published_at="2023-05-04",
        modified_at="2023-11-12T09:30:00+00:00",
    )
    later = replace(corrected, doc_id="d1", modified_at="2024-01-02")
    same_day = replace(corrected, doc_id="d2", modified_at="2023-05-04T18:00:00")
    answer = _answer([corrected, later, same_day], lead="The board approved the bridge.")
    message = render_answer(answer, "id1")
    texts = [b["text"]["text"] for b in message.blocks if b.get("type") == "section"]
    assert "Gazette · 4 May 2023 · updated 12 Nov" in texts[0]
    assert "4 May 2023 · updated 2 Jan 2024" in texts[2]
    assert "updated" not in texts[3]
    [plain] = message.fallbacks[-1:]
    assert "4 May 2023, updated 12 Nov" in plain.text

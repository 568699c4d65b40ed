"""Page furniture (timestamps, datelines, bylines, credits, promo) out of articles at ingest."""

from __future__ import annotations

import json
from pathlib import Path

from core.encode.embeddings import load_embedder
from core.models import Article
from core.settings import Settings
from core.store import open_store
from ingest.furniture import clean_article, clean_text
from tests.helpers import ingest_paths

# Hand-written pages in the shapes scrapers leave (no dev data).
SCRAPED = (
    "March 3, 2026 Updated March 4, 2026, 9:15 a.m. ET\n\n"
    "Dana Whitfield\n\nHarbor Ledger\n\n"
    "PORTLAND, Maine — The city council voted 7-2 on Tuesday to close the old ferry pier.\n\n"
    "The pier, built in 1931, had been shut to cars since last spring.\n\n"
    "Rowan Ellery covers city hall for the Harbor Ledger. Reach him at rellery@ledger.test "
    "and follow him on X @rowanellery.\n\n"
    "Contributing: Mina Okafor\n\n"
    "(This story was updated to add new information.)"
)
LIVE = (
    "Updated April 20, 2026, 6:49 p.m. ET\n\n"
    "10:36 pm ET April 19, 2026 Share this update Fans pack the arena for the opener "
    "Priya Nandakumar ALBANY, NY — When the doors opened, the line stretched two blocks.\n\n"
    "– Priya Nandakumar\n\n"
    "9:05 p.m. — The home side scored twice in the first period.\n\n"
    "Sign up for our Morning Briefing newsletter here.\n\n"
    "Read more:\n\nArena opens after two-year rebuild\n\nTicket prices rise for playoffs\n\n"
    "The team plays again on Friday."
)


def test_a_scraped_page_keeps_only_the_story() -> None:
    """The story starts at its first sentence: no timestamp, byline, bio or update note."""
    cleaned = clean_text(SCRAPED)
    assert cleaned.text == (
        "PORTLAND, Maine — The city council voted 7-2 on Tuesday to close the old ferry pier.\n\n"
        "The pier, built in 1931, had been shut to cars since last spring."
    )
    assert cleaned.removed == {"timestamp": 1, "byline": 4, "editor's note": 1}


def test_a_live_blog_entry_loses_its_header_not_its_news() -> None:
    """A live-blog entry reads from its dateline; timeline times and sentences stay."""
    cleaned = clean_text(LIVE)
    lines = cleaned.text.split("\n\n")
    assert lines[0] == "ALBANY, NY — When the doors opened, the line stretched two blocks."
    assert "9:05 p.m. — The home side scored twice in the first period." in lines
    assert lines[-1] == "The team plays again on Friday."
    assert not any("Share this update" in line or "Sign up" in line for line in lines)
    assert "Arena opens after two-year rebuild" not in cleaned.text
    assert cleaned.removed["live-blog header"] == 1
    assert cleaned.removed["related links"] == 3
    assert cleaned.removed["promo"] == 1


def test_news_lines_that_look_like_furniture_stay() -> None:
    """Dashed lists, schedule dates and sentences naming a reporter are the story: kept."""
    text = (
        "The county listed its symptoms to watch:\n\n- Headache\n\n- Stiff Neck\n\n"
        "June 12\n\nThe parade starts at noon.\n\n"
        "Photos of the flood, taken by residents, were shared 40,000 times on Sunday.\n\n"
        "By Tuesday, the river had fallen below flood stage.\n\n(APPLAUSE)\n\n"
        "Correction: An earlier version of this story gave the wrong day. The river crested "
        "on Monday."
    )
    assert clean_text(text).text == text


def test_contact_lines_bios_captions_and_more_lists_go() -> None:
    """The shapes a first pass missed: a contact line ending in a handle or an address, a
    reporter's bio whatever its role word, a caption ending in its photographer and outlet,
    a "More:" line of headlines, a long "Download the app" promo."""
    story = "The city council voted 7-2 on Tuesday to close the old ferry pier."
    furniture = [
        "Follow Dana Whitfield on X: @danawhitfield",
        "Follow USA TODAY reporter Rowan Ellery on Twitter: @rowanellery\u200b",
        "Email him at rellery@ledger.test.",
        "Rowan Ellery is the Coastal Connect Reporter for the Harbor Ledger. Email him at "
        "rellery@ledger.test.",
        "Ledger reporter Mina Okafor covers transit. She can be reached at mokafor@ledger.test.",
        "Dana Whitfield is a producer with the Harbor Ledger. Follow her on X @dwhit.",
        "Crews take down the pier's old gate on Monday morning before the vote. Sam Ortiz/The "
        "Harbor Ledger",
        "More: Ferry fares rise for summer | Pier's history in photos",
        "Download your local site's app to ensure you're always connected to the news. And look "
        "for our special subscription offers here.",
        "Subscribe to the Harbor Ledger today.",
    ]
    cleaned = clean_text("\n\n".join([story, *furniture]))
    assert cleaned.text == story
    assert cleaned.removed == {"promo": 5, "byline": 3, "credit": 1, "related links": 1}


def test_a_call_to_action_ending_a_paragraph_is_cut_from_it() -> None:
    """ "… Sign up here for the newsletter." goes; the sentences before it stay."""
    text = (
        "Coastal Skyways cancelled 1,900 flights on Friday. Sign up here for storm alerts.\n\n"
        "(You can get the morning briefing in your inbox daily. Sign up here.)\n\n"
        "Subscribers to the ferry pass saved $40 a month."
    )
    cleaned = clean_text(text)
    assert cleaned.text == (
        "Coastal Skyways cancelled 1,900 flights on Friday.\n\n"
        "Subscribers to the ferry pass saved $40 a month."
    )
    assert cleaned.removed == {"promo": 2}


def test_story_lines_shaped_like_contacts_and_credits_stay() -> None:
    """A sentence that names a network, a ranking's "coach/owner" item and a "More:"
    sentence are the story."""
    text = (
        "Send help, the mayor wrote on X.\n\n"
        "Email records show he wrote on X that the plan failed.\n\n"
        "Follow the money, the auditor told the council on Tuesday.\n\n"
        "30. Pete Carroll/John Schneider\n\n"
        "More: the storm is expected to strengthen overnight."
    )
    assert clean_text(text).text == text


def test_a_removed_date_and_byline_become_metadata() -> None:
    """An article without a date or author gets them from its dateline and "By" line."""
    text = (
        "Jan. 9, 2026, 4:02 p.m. ET\n\nBy Lena Marsh, Valley Courier\n\n"
        "The valley's reservoir reached full capacity for the first time in a decade."
    )
    article, removed = clean_article(Article(doc_id="a", title="Reservoir", text=text))
    assert article.published_at == "2026-01-09"
    assert article.authors == ["Lena Marsh"]
    assert article.text.startswith("The valley's reservoir")
    assert removed == {"timestamp": 1, "byline": 1}
    dated = Article(doc_id="b", title="R", text=text, published_at="2026-01-10", authors=["X"])
    kept, _ = clean_article(dated)
    assert (kept.published_at, kept.authors) == ("2026-01-10", ["X"])


def test_ingest_counts_what_it_removed_and_stores_clean_chunks(
    settings: Settings, tmp_path: Path
) -> None:
    """The ingest summary says how many furniture lines went; the stored text starts with news."""
    feed = tmp_path / "feed.jsonl"
    records = [
        {"id": "pier", "title": "Pier", "text": SCRAPED},
        {"id": "arena", "title": "Arena", "text": LIVE},
    ]
    feed.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    report = ingest_paths(settings, feed)
    assert report.furniture["timestamp"] == 2
    assert "furniture removed: 13 lines (2 timestamp, 1 live-blog header" in report.line()
    embedder = load_embedder(settings.embedding_model, settings.embedding_encoder)
    store = open_store(settings.store, embedder.name, embedder.dim)
    try:
        first = {c.doc_id: c.text for c in store.iter_chunks() if c.index == 0}
        dated = {a.doc_id: a.published_at for a in store.iter_articles()}
    finally:
        store.close()
    assert first["pier"].startswith("PORTLAND, Maine — The city council voted")
    assert first["arena"].startswith("ALBANY, NY — When the doors opened")
    assert dated["pier"] == "2026-03-03"
    again = ingest_paths(settings, feed)
    assert again.unchanged == 2 and not again.furniture


def test_a_section_label_is_cut_from_the_sentence_it_heads() -> None:
    """A summary box's label ("AI-assisted summary", "Summary:", "Key takeaways:") goes; the
    sentence it heads stays whole, and so do sentences that merely open with such a word."""
    text = (
        "AI-assisted summary The harbor ferry resumed service on Monday after a week.\n\n"
        "Key takeaways: Fares rise by 50 cents in June.\n\n"
        "Summary judgment was granted to the ferry operator in March.\n\n"
        "Highlights of the reopening included a brass band on the pier."
    )
    cleaned = clean_text(text)
    assert cleaned.text.split("\n\n") == [
        "The harbor ferry resumed service on Monday after a week.",
        "Fares rise by 50 cents in June.",
        "Summary judgment was granted to the ferry operator in March.",
        "Highlights of the reopening included a brass band on the pier.",
    ]
    assert cleaned.removed == {"label": 2}

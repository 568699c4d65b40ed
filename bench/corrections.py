"""Answers follow corrections: how soon a posted answer is edited after its article is
corrected on the newsroom's site.

    .venv/bin/python -m bench.corrections [--every 5]

A local site (127.0.0.1) serves an Atom feed and an article; `ingest follow FEED --every N
--delay 0` runs as its own process, as an operator runs it. A bot (the real Bolt app over
Socket Mode, against the Slack stand-in, its archive synced every second as `bot` does)
answers a question quoting the article. Then the site corrects the article (new text,
`article:modified_time`, the feed's `updated`). Reported: seconds from the correction to
the follow poll that stored it, and to the bot's `chat.update` of the answer (with its
note), against the target (poll interval + 10 s); and the CPU seconds this process (the
bot) spent meanwhile.

Needs no data set; the site, the store and the bot's state live in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from bench.common import log
from testing.console import following
from testing.site import Site, article, atom, serving
from testing.stores import ingest_paths, make_settings

TITLE = "New central library opens"
BEFORE = (
    "The new central library on Quill Street opened its doors with seven floors of books.\n"
    "Librarians said the seven floors hold more than a million volumes for readers."
)
AFTER = BEFORE.replace("seven floors", "eight floors")
QUESTION = "How many floors does the new central library on Quill Street have?"


def _others(work: Path) -> Path:
    """Forty short articles on other subjects, so the archive is not a handful."""
    path = work / "others.jsonl"
    records = [
        {
            "id": f"other-{n}",
            "title": f"Market report {n}",
            "text": f"Prices at the farmers market rose on day {n}, vendors said, and apples "
            "sold out by noon.",
        }
        for n in range(40)
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def edited_after(every: float, work: Path) -> dict[str, object]:
    """Seconds from a correction on the site to the edit of the answer quoting it."""
    from bot.answerer import ArchiveAnswerer
    from bot.app import create_app
    from bot.socket_mode import create_socket_handler
    from testing.bots import APP_TOKEN, BOT_TOKEN, bot_settings
    from testing.slack_standin import payloads
    from testing.slack_standin.socket_mode import FakeSocketMode
    from testing.slack_standin.web_api import FakeSlackWebAPI

    settings = make_settings(work)
    ingest_paths(settings, _others(work))
    with serving(Site()) as site:
        site.page("/feed.atom", "application/atom+xml", atom(site.base, "2026-11-10T08:00:00Z"))
        site.page("/news/library", "text/html; charset=utf-8", article(TITLE, BEFORE))
        follow = following(settings, work, f"{site.base}/feed.atom", every)
        web = FakeSlackWebAPI(BOT_TOKEN, APP_TOKEN).start()
        socket = FakeSocketMode().start()
        web.socket_url = socket.url
        answerer = ArchiveAnswerer(settings)
        handler = None
        try:
            assert follow.stdout is not None
            log(f"first poll: {follow.stdout.readline().strip()}")
            answerer.warm()
            answerer.start_refreshing()  # every second, as `bot` does
            app = create_app(bot_settings(settings, web, work / "bot"), answerer)
            handler = create_socket_handler(app, APP_TOKEN)
            handler.connect()
            socket.wait_connected()
            event = payloads.app_mention(QUESTION, "U0REPORTER", "C0NEWSDESK")
            socket.deliver("events_api", payloads.event_callback(event))
            [answer] = web.wait_for("chat.postMessage", timeout=30)
            if "seven floors" not in answer.shown:
                raise SystemExit("bench: the answer does not quote the article")
            ts = answer.response["ts"]

            corrected = time.monotonic()
            cpu = time.process_time()
            modified = "2026-11-12T09:30:00Z"
            site.page("/news/library", "text/html; charset=utf-8", article(TITLE, AFTER, modified))
            site.page("/feed.atom", "application/atom+xml", atom(site.base, modified))
            stored: list[float] = []

            def read_polls() -> None:
                assert follow.stdout is not None
                for line in follow.stdout:
                    if " 1 updated" in line:
                        stored.append(time.monotonic() - corrected)
                        return

            reader = threading.Thread(target=read_polls, daemon=True)
            reader.start()
            [edit] = web.wait_for(
                "chat.update", lambda c: c.args.get("ts") == ts, timeout=every + 60
            )
            edited = time.monotonic() - corrected
            reader.join(timeout=every + 10)
            return {
                "every_s": every,
                "stored_after_s": round(stored[0], 2) if stored else None,
                "edited_after_s": round(edited, 2),
                "target_s": every + 10,
                "bot_cpu_s": round(time.process_time() - cpu, 2),
                "note": edit.shown.split("\n")[1] if "\n" in edit.shown else edit.shown,
                "quotes_correction": "eight floors" in edit.shown,
            }
        finally:
            if handler is not None:
                handler.close()
            answerer.close()
            socket.close()
            web.close()
            follow.terminate()
            follow.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        log(f"a corrected article: ingest follow --every {args.every}, the bot edits its answer")
        print(json.dumps({"corrections": edited_after(args.every, Path(work))}))


if __name__ == "__main__":
    main()

"""`bot`: read settings, check the Slack credentials, open the archive, serve Slack.

With SLACK_APP_TOKEN it connects over Socket Mode; without it, it serves HTTP on PORT
(`POST /slack/events`, `GET /healthz`). Exit codes: 0 stopped cleanly, 2 configuration or
credential problem (the message says which variable and where to get it), including a
token Slack revoked while serving (the app was uninstalled): the bot then stops by itself.

`bot feedback --since 7d` prints the 👎 answers of the last week instead, with their reasons,
and the questions asked per day, the no-answer rate and the most-asked questions that found
nothing (FEEDBACK_DB and BOT_STATE_DB only; `--json` for a program).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackApiError

from bot.answerer import ArchiveAnswerer
from bot.app import Bot, build_bot
from bot.desks import Desks
from bot.feedback import FeedbackStore
from bot.http import EVENTS_PATH, HttpServer, create_wsgi_app
from bot.logs import configure_logging
from bot.questions import QuestionLog
from bot.report import feedback_json, feedback_report, parse_since
from bot.socket_mode import create_socket_handler
from bot.state import SharedState
from bot.streaming import open_writer
from bot.tokens import APP_TOKEN_HELP, BOT_TOKEN_HELP, check_slack_settings
from buildtools.onnx import ensure_encoder
from core.console import console_script
from core.errors import NewsroomError, StoreUnavailableError
from core.sections import SlackSettings
from core.settings import load_settings

log = logging.getLogger("bot")
REVOKED_GRACE_S = 2.0  # time for the ack of the revoking event to leave before the stop


@console_script("bot")
def main(argv: list[str] | None = None) -> int:
    """Entry point of the `bot` console script."""
    args = _parser().parse_args(argv)
    if args.command == "feedback":
        return _report(args)
    try:
        settings = load_settings()
        check_slack_settings(settings.slack)
        Desks.parse(
            settings.desks, settings.allowed_channels
        )  # a malformed DESKS stops the start, naming what
        ensure_encoder(settings.encoder)  # built on first use unless `make install` did
    except NewsroomError as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, secrets=[settings.slack_signing_secret or ""])
    answerer = ArchiveAnswerer(settings)
    try:
        writer = open_writer(settings)  # None unless ANSWER_MODEL is set
    except NewsroomError as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    stop, revoked = threading.Event(), threading.Event()

    def on_revoked() -> None:
        # The listener runs beside Bolt's ack of the very event that revoked the token:
        # closing the connection at once can drop that ack, and Slack would redeliver.
        revoked.set()
        timer = threading.Timer(REVOKED_GRACE_S, stop.set)
        timer.daemon = True
        timer.start()

    try:  # auth.test: fails fast, before the models load
        bot = build_bot(settings, answerer, on_revoked=on_revoked, writer=writer)
    except (BoltError, SlackApiError, OSError) as exc:
        print(
            f"bot: Slack did not accept SLACK_BOT_TOKEN ({_reason(exc)}). {BOT_TOKEN_HELP}",
            file=sys.stderr,
        )
        return 2
    try:
        answerer.warm(build_in_background=True)  # a new host answers while it builds
        if writer is not None:
            writer.warm()
    except StoreUnavailableError as exc:
        log.warning(
            "%s Starting anyway: questions get a 'search is unavailable' reply until "
            "the store is back.",
            exc,
        )
    except NewsroomError as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    answerer.start_refreshing()
    try:
        _stop_on_signals(stop)
        code = serve(
            bot,
            settings.slack,
            stop,
            lambda: answerer.healthy,
            lambda: answerer.problem,
            search=lambda: answerer.search,
        )
    finally:
        answerer.close()
    return 2 if revoked.is_set() else code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bot",
        description="Answer Slack questions from the article archive. Configure it with "
        "environment variables or .env (see .env.example and docs/slack.md).",
    )
    commands = parser.add_subparsers(dest="command")
    report = commands.add_parser(
        "feedback",
        help="print the 👎 answers (with their questions) people gave lately",
        description="Print 👍/👎 counts and every 👎 answer with its question, newest first, "
        "from FEEDBACK_DB. Needs no Slack token.",
    )
    report.add_argument(
        "--since", default="7d", help="a span (7d, 12h, 2w) or a date (2026-11-01); default 7d"
    )
    report.add_argument("--all", action="store_true", help="list 👍 votes too")
    report.add_argument(
        "--json", action="store_true", help="print votes and question statistics as JSON"
    )
    return parser


def _report(args: argparse.Namespace) -> int:
    """`bot feedback`: the report on standard output."""
    try:
        settings = load_settings()
        since = parse_since(args.since)
    except (NewsroomError, ValueError) as exc:
        print(f"bot feedback: {exc}", file=sys.stderr)
        return 2
    if not settings.feedback_path.exists():
        print(
            f"bot feedback: no feedback yet: {settings.feedback_path} does not exist "
            "(set FEEDBACK_DB if the bot keeps it elsewhere).",
            file=sys.stderr,
        )
        return 1
    store = FeedbackStore(settings.feedback_path)
    state = settings.bot_state_path
    stats = QuestionLog(SharedState(state)).stats(since) if state.exists() else None
    if args.json:
        print(feedback_json(store, since, stats, everything=args.all))
    else:
        print(feedback_report(store, since, everything=args.all, questions=stats))
    return 0


def serve(
    bot: Bot,
    slack: SlackSettings,
    stop: threading.Event,
    healthy: Callable[[], bool | None] = lambda: None,
    problem: Callable[[], str | None] = lambda: None,
    host: str = "0.0.0.0",
    search: Callable[[], str | None] = lambda: None,
) -> int:
    """Serve Slack until `stop` is set: over Socket Mode with SLACK_APP_TOKEN, else HTTP on
    PORT. Then no new requests are taken, the answers in flight finish (a bounded wait)
    and the bot's pools shut down. Returns the exit code.

    Args:
        healthy, problem: What `/healthz` says of the store (HTTP mode).
        host: The address the HTTP server listens on.
        search: Which search answers now ("hybrid", or "dense" while a new host builds its
            local index), for `/healthz`.
    """
    if slack.app_token:
        handler = create_socket_handler(bot.app, slack.app_token)
        try:
            handler.connect()
        except (SlackApiError, OSError) as exc:
            print(
                f"bot: could not open Socket Mode with SLACK_APP_TOKEN ({_reason(exc)}). "
                f"{APP_TOKEN_HELP}",
                file=sys.stderr,
            )
            return 2
        log.info("connected to Slack over Socket Mode; answering questions")
        _wait(stop)
        handler.close()
        bot.close()
        return 0
    wsgi = create_wsgi_app(
        bot.app, healthy, slack.signing_secret or "", follow_problem=problem, search=search
    )
    server = HttpServer(wsgi, slack.port, host)
    server.start()
    log.info("HTTP mode: POST %s and GET /healthz on port %d", EVENTS_PATH, server.port)
    _wait(stop)
    server.close()
    bot.close()
    return 0


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set `stop` (the main thread then stops serving)."""

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def _wait(stop: threading.Event) -> None:
    while not stop.wait(1.0):  # a timeout keeps the main thread responsive to signals
        pass


def _reason(exc: BaseException) -> str:
    """A short, secret-free reason: Slack's error code, else the exception's type."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "refused"))
    text = str(exc)
    for code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked"):
        if code in text:
            return code
    return type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())

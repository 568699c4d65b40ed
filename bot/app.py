"""create_app(settings, answerer) -> a Bolt App with every listener registered.

`build_bot` returns the app with its responder, whose `drain` waits until every accepted
event was handled and whose `close` lets answers in flight finish and shuts its pools down
(`bot.__main__` calls it when the bot stops). Nothing here reads the environment or starts
a server: `bot.__main__` does that, and the tests build apps against a local stand-in of
Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot import listeners
from bot.corrections import Corrections
from bot.desks import Desks
from bot.feedback import FeedbackStore
from bot.policy import Identity, Policy
from bot.pools import CLOSE_SECONDS, Pools
from bot.responder import Answerer, Responder
from bot.retries import create_retry_handlers
from bot.state import SeenEvents, SharedState
from bot.streaming import WrittenReplies
from core.errors import NewsroomError
from core.models import StoreSummary
from core.sections import SlackSettings
from core.settings import Settings

if TYPE_CHECKING:
    from core.written.writer import Writer

log = logging.getLogger(__name__)

BOLT_LOGGER = "bot.bolt"


def create_web_client(slack: SlackSettings) -> WebClient:
    """The Web API client: SLACK_API_BASE_URL honoured, 429s waited out, 5xx and drops retried."""
    kwargs: dict[str, Any] = {"token": slack.bot_token or None, "timeout": 15}
    if slack.api_base_url:
        base = slack.api_base_url
        kwargs["base_url"] = base if base.endswith("/") else base + "/"  # urljoin needs it
    kwargs["retry_handlers"] = create_retry_handlers()
    return WebClient(**kwargs)


@dataclass
class Bot:
    """A Bolt app and the responder behind its listeners."""

    app: App
    responder: Responder

    def drain(self, timeout: float) -> bool:
        """Wait until every event accepted so far was fully handled (False: not within
        `timeout` seconds)."""
        return self.responder.drain(timeout)

    def close(self, timeout: float = CLOSE_SECONDS) -> bool:
        """After the transport stopped: answers in flight finish (at most `timeout`
        seconds), then the pools shut down and nothing new is accepted."""
        return self.responder.close(timeout)


def create_app(
    settings: Settings,
    answerer: Answerer,
    *,
    client: WebClient | None = None,
    socket_mode: bool | None = None,
    on_revoked: Callable[[], None] | None = None,
    writer: Writer | None = None,
) -> App:
    """A Bolt app answering questions with `answerer` (see `build_bot`)."""
    return build_bot(
        settings,
        answerer,
        client=client,
        socket_mode=socket_mode,
        on_revoked=on_revoked,
        writer=writer,
    ).app


def build_bot(
    settings: Settings,
    answerer: Answerer,
    *,
    client: WebClient | None = None,
    socket_mode: bool | None = None,
    on_revoked: Callable[[], None] | None = None,
    writer: Writer | None = None,
) -> Bot:
    """A Bolt app answering questions with `answerer`, and its responder.

    Args:
        settings: The Slack section (tokens, API base URL, allowed channels, limits,
            feedback and state files) and the longest question a shortcut takes.
        answerer: question -> Answer (see `bot.answerer.ArchiveAnswerer`; its `searcher()`,
            when it has one, tells the App Home tab what the archive holds).
        client: A Web API client; by default one built from settings.
        socket_mode: Whether requests come over Socket Mode (no signature to verify);
            by default, when SLACK_APP_TOKEN is set.
        on_revoked: Called once if Slack revokes the bot token (the app was uninstalled).
        writer: Writes answers with a model (`bot.streaming.open_writer`); None keeps
            answers extractive.

    Raises:
        BoltError: Slack refused the bot token (`auth.test` runs here).
        ConfigError: DESKS is malformed.
    """
    _quiet_bolt_token_warning()
    slack = settings.slack
    if socket_mode is None:
        socket_mode = bool(slack.app_token)
    pools = Pools()
    app = App(
        client=client or create_web_client(slack),
        signing_secret=slack.signing_secret or "",
        request_verification_enabled=not socket_mode,
        logger=logging.getLogger(BOLT_LOGGER),
        listener_executor=pools.listeners,
    )
    state = SharedState(slack.state_path)
    responder = Responder(
        slack,
        answerer,
        FeedbackStore(slack.feedback_path),
        Policy(slack, Identity.of(app.client)),
        state,
        summarize=_summarizer(answerer),
        on_revoked=on_revoked,
        pools=pools,
        written=WrittenReplies(writer) if writer is not None else None,
        desks=Desks.parse(slack.desks, slack.allowed_channels),
    )
    app.middleware(skip_repeated_deliveries(SeenEvents(state)))
    listeners.register(app, responder, settings.answers.max_question_chars)
    responder.corrections = _follow_corrections(slack, answerer, responder, app.client)
    return Bot(app, responder)


def _follow_corrections(
    slack: SlackSettings, answerer: Answerer, responder: Responder, client: WebClient
) -> Corrections | None:
    """Edit posted answers when an article they quote changes, after each sync of the
    answerer's live archive (an answerer without one, or FOLLOW_ANSWERS_DAYS=0: never)."""
    watch = getattr(answerer, "watch", None)
    if watch is None or slack.follow_answers_days <= 0:
        return None
    corrections = Corrections(
        responder.basics,
        responder.followed,
        responder.conversations.reanswer,
        responder.later,
        client,
    )
    watch(corrections.round)
    return corrections


def _summarizer(answerer: Answerer) -> Callable[[], StoreSummary | None]:
    """What the archive holds, read through the answerer's searcher (None when it has none
    or the store cannot be reached)."""
    searcher = getattr(answerer, "searcher", None)

    def summarize() -> StoreSummary | None:
        if searcher is None:
            return None
        try:
            summary: StoreSummary | None = searcher().summary()
        except NewsroomError:
            return None
        return summary

    return summarize


class _DropTokenUnusedWarning(logging.Filter):
    """Bolt warns "`token` will be unused" whenever SLACK_BOT_TOKEN is in the environment
    and a client is passed, although that client carries the very same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _quiet_bolt_token_warning() -> None:
    bolt_log = logging.getLogger(BOLT_LOGGER)
    if not any(isinstance(f, _DropTokenUnusedWarning) for f in bolt_log.filters):
        bolt_log.addFilter(_DropTokenUnusedWarning())


def skip_repeated_deliveries(seen: SeenEvents) -> Callable[..., BoltResponse | None]:
    """A middleware acking, but not handling, an event some bot process took before (a
    Slack retry, possibly over another connection)."""

    def middleware(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:  # noqa: A002
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not seen.first_time(str(event_id)):
            log.info("skipped a repeated delivery of event %s", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return middleware

"""Logging for the bot: our lines at LOG_LEVEL, Slack's libraries quieter, secrets masked.

Our own log lines carry ids, counts and timings, never message texts. Slack's libraries log
request bodies (message texts) at DEBUG, so they are held at INFO or above whatever
LOG_LEVEL says. Bolt still writes a whole request body at INFO when a signature check
fails, and any exception may carry a payload or a token in its message; so everything a
record would write, its message and its traceback alike, passes through `scrub` first.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

_TOKEN = re.compile(r"\b(xox[abposer]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]+")
# A response_url is a credential for 30 minutes; webhooks alike.
_HOOK = re.compile(r"https?://hooks\.slack(?:-gov)?\.com/\S+")
# A form-encoded body: three or more key=value pairs joined by "&".
_FORM = re.compile(r"[\w.%-]+=[^&\s]*(?:&[\w.%-]+=[^&\s]*){2,}")
# URL-encoded JSON, as in an interactivity body (`payload=%7B%22type%22…`).
_ENCODED_JSON = re.compile(r"[^\s(]*%7[Bb][^\s)]*")
# Keys that only a Slack payload (or our own records of one) holds.
_PAYLOAD_KEY = re.compile(
    r"""["'](?:text|token|response_url|payload|event|blocks|message|question|value|"""
    r"""trigger_id|actions)["']\s*:"""
)
_QUIET = ("slack_bolt", "slack_sdk", "bot.bolt", "httpx", "urllib3")
_LIBRARIES = ("chromadb", "tantivy", "sentence_transformers", "transformers")


def redact(text: str) -> str:
    """The text with every Slack token shape replaced by its prefix and `…redacted`."""
    return _TOKEN.sub(lambda m: f"{m.group(1)}-…redacted", text)


def scrub(text: str, secrets: list[str] | None = None) -> str:
    """The text with tokens, `secrets`, hook URLs and request bodies (JSON, dict reprs and
    form-encoded alike) masked."""
    text = redact(text)
    for secret in secrets or []:
        text = text.replace(secret, "…redacted")
    text = _HOOK.sub("https://hooks.slack.com/…redacted", text)
    text = _FORM.sub("…body omitted…", text)
    text = _ENCODED_JSON.sub("…body omitted…", text)
    return _omit_payloads(text)


def _omit_payloads(text: str) -> str:
    """Replace each outermost {…} holding a payload key with `{…body omitted…}`."""
    out: list[str] = []
    position = 0
    while (start := text.find("{", position)) >= 0:
        end = _closing_brace(text, start)
        if end < 0:
            break
        segment = text[start : end + 1]
        out.append(text[position:start])
        out.append("{…body omitted…}" if _PAYLOAD_KEY.search(segment) else segment)
        position = end + 1
    out.append(text[position:])
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


class RedactSecrets(logging.Filter):
    """Scrubs the formatted message and the traceback of every record passing the handler."""

    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self.secrets)
        return True


def configure_logging(
    level: str = "INFO", secrets: list[str] | None = None, stream: TextIO | None = None
) -> None:
    """One stderr handler for the process, with secret redaction.

    Args:
        level: LOG_LEVEL (DEBUG, INFO, WARNING, …) for our own loggers.
        secrets: Exact values to mask as well (e.g. the signing secret).
        stream: Where to write; standard error by default.
    """
    numeric = logging.getLevelName(level.upper())
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(numeric, logging.INFO))
    for name in _LIBRARIES:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))

"""Logging for the bot: our lines at LOG_LEVEL, Slack's libraries quieter, secrets masked.

Our own log lines carry ids, counts and timings, never message texts. Slack's libraries log
request bodies (message texts) at DEBUG, so they are held at INFO or above whatever
LOG_LEVEL says; and every record passes through `RedactSecrets`, which masks anything
shaped like a Slack token, in case a library ever prints one.
"""

from __future__ import annotations

import logging
import re
import sys

_TOKEN = re.compile(r"\b(xox[abposer]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]+")
_QUIET = ("slack_bolt", "slack_sdk", "bot.bolt", "httpx", "urllib3")
_LIBRARIES = ("chromadb", "tantivy", "sentence_transformers", "transformers")


def redact(text: str) -> str:
    """The text with every Slack token shape replaced by its prefix and `…redacted`."""
    return _TOKEN.sub(lambda m: f"{m.group(1)}-…redacted", text)


class RedactSecrets(logging.Filter):
    """Masks tokens in the formatted message of every record passing the handler."""

    def __init__(self, secrets: list[str] | None = None):
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        for secret in self.secrets:
            cleaned = cleaned.replace(secret, "…redacted")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    """One stderr handler for the process, with secret redaction.

    Args:
        level: LOG_LEVEL (DEBUG, INFO, WARNING, …) for our own loggers.
        secrets: Exact values to mask as well (e.g. the signing secret).
    """
    numeric = logging.getLevelName(level.upper())
    numeric = numeric if isinstance(numeric, int) else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(numeric, logging.INFO))
    for name in _LIBRARIES:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))

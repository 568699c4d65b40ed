"""How calls to Slack are retried: the Web API client's and `response_url` posts alike."""

from __future__ import annotations

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


class AnyServerErrorRetryHandler(ServerErrorRetryHandler):
    """Retries every 5xx with backoff; slack_sdk's own handler retries only 500 and 503,
    and a proxy in front of Slack answers 502 or 504 when it cannot reach it."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code <= 599


def create_retry_handlers() -> list[RetryHandler]:
    """Dropped connections and 5xx are retried twice with exponential backoff and jitter
    (0.5-1.5 s, then 1-2 s); a 429 is retried after its Retry-After, up to three times."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        AnyServerErrorRetryHandler(max_retry_count=2),
    ]

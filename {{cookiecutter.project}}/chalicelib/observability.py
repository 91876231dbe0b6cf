"""JSON logs with a correlation id, and metrics, via Powertools for AWS Lambda.

The correlation id lives in Powertools' thread-safe keys (a context variable), not the
logger's shared keys: Lambda runs one request per process, but devstack (and any threaded
host) runs concurrent requests in one process, and shared keys let one request's id leak
into another's log lines and error body.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger, Metrics

from chalicelib.config import get_settings

_settings = get_settings()

CORRELATION_KEY = "correlation_id"

logger = Logger(service=_settings.service_name, level=_settings.log_level)
metrics = Metrics(service=_settings.service_name, namespace=_settings.service_name)


def correlation_id() -> str | None:
    """The correlation id of the work this thread is doing, if any."""
    value = logger.thread_safe_get_current_keys().get(CORRELATION_KEY)
    return str(value) if value is not None else None


@contextmanager
def correlated(value: str, **keys: object) -> Iterator[None]:
    """Tag every log line of the block with value (and keys); untag after, so a reused thread starts clean."""
    logger.thread_safe_append_keys(**{CORRELATION_KEY: value}, **keys)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys([CORRELATION_KEY, *keys])

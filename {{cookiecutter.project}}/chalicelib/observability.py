"""JSON logs with a correlation id, metrics and X-Ray traces, via Powertools for AWS Lambda.

Every function, API and event alike, runs inside instrumented() (applied once, by the Chalice
middleware in chalicelib/middleware.py): Tracer's handler segment, log_metrics (one EMF line
per invocation, and a ColdStart metric) and inject_lambda_context (cold_start,
function_request_id and the other function keys, and the correlation id found at the
trigger's JMESPath). Traces are recorded on Lambda only: off it (tests, devstack: no
LAMBDA_TASK_ROOT) Powertools' Tracer would be a no-op that still imports the X-Ray SDK, a third
of every local start's and test process's import time, so there is no Tracer there.

The correlation id lives in Powertools' thread-safe keys (a context variable), not the
logger's shared keys: Lambda runs one request per process, but devstack (and any threaded
host) runs concurrent requests in one process, and shared keys let one request's id leak
into another's log lines and error body.

Metrics: every metric goes to ONE namespace (the service name) as EMF lines on stdout, which
CloudWatch turns into metrics with no API call. Services record a business outcome where it
happens (count); log_metrics publishes them once at the invocation's end.
"""

import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from chalicelib.config import get_settings

_settings = get_settings()

CORRELATION_KEY = "correlation_id"

logger = Logger(service=_settings.service_name, level=_settings.log_level)
metrics = Metrics(service=_settings.service_name, namespace=_settings.service_name)
tracer = Tracer(service=_settings.service_name) if "LAMBDA_TASK_ROOT" in os.environ else None
# An invocation that recorded no business outcome is normal (a read, an empty sweep): no EMF line, no warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

T = TypeVar("T")


def correlation_id() -> str | None:
    """The correlation id of the work this thread is doing, if any."""
    value = logger.thread_safe_get_current_keys().get(CORRELATION_KEY)
    return str(value) if value is not None else None


@contextmanager
def correlated(value: str, **keys: object) -> Iterator[None]:
    """Tag every log line of the block with value (and keys); restore the enclosing block's tags after, so a
    reused thread starts clean."""
    names = [CORRELATION_KEY, *keys]
    outer = {name: tag for name, tag in logger.thread_safe_get_current_keys().items() if name in names}
    logger.thread_safe_append_keys(**{CORRELATION_KEY: value}, **keys)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(names)
        # A record's id inside a batch's: the batch's comes back for the rest of the invocation.
        if outer:
            logger.thread_safe_append_keys(**outer)


def count(name: str, value: int = 1) -> None:
    """Record a business outcome (a Count) for this invocation's EMF line."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_by(name: str, dimension: str, value: str) -> None:
    """Publish one Count with an extra dimension now, as its own EMF line.

    Powertools applies dimensions to a whole metric set, so a per-outcome dimension gets its
    own set (single_metric) instead of tagging every other metric of the invocation.
    """
    default_dimensions = {"service": _settings.service_name, dimension: value}
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=1,
        namespace=_settings.service_name,
        default_dimensions=default_dimensions,
    ):
        pass


def instrumented(event: dict[str, Any], context: Any, correlation_id_path: str | None, run: Callable[[], T]) -> T:
    """Run one invocation traced, its metrics published at its end, its logs tagged with the function's keys
    and the correlation id at correlation_id_path in the event (the function's request id if none)."""

    @metrics.log_metrics(capture_cold_start_metric=True)
    @logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)
    def handler(_event: dict[str, Any], _context: Any) -> T:
        # Also in this thread's keys: devstack runs invocations side by side in one process.
        with correlated(logger.get_correlation_id() or context.aws_request_id):
            return run()

    traced = tracer.capture_lambda_handler(handler, capture_response=False) if tracer is not None else handler
    result: T = traced(event, context)
    return result

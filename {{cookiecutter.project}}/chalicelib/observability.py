"""JSON logs with a correlation id, and metrics, via Powertools for AWS Lambda.

The correlation id lives in Powertools' thread-safe keys (a context variable), not the
logger's shared keys: Lambda runs one request per process, but devstack (and any threaded
host) runs concurrent requests in one process, and shared keys let one request's id leak
into another's log lines and error body.

Metrics: every metric goes to ONE namespace (the service name) as EMF lines on stdout, which
CloudWatch turns into metrics with no API call. Services record a business outcome where it
happens (count); the invocation's entry point publishes them once at its end (metrics_flushed).
Handlers are Chalice routes, queue consumers and lambda_functions, not one (event, context)
shape, so the flush is a context manager at each entry point rather than Powertools' log_metrics.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

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


def flush_metrics() -> None:
    """Publish what this invocation recorded as one EMF line; nothing (and no warning) if it recorded none."""
    if metrics.metric_set:
        metrics.flush_metrics()


@contextmanager
def metrics_flushed() -> Iterator[None]:
    """Publish the block's metrics once at its end, also when it raises (what happened still counts)."""
    try:
        yield
    finally:
        flush_metrics()

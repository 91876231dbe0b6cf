"""Reading the business metrics a test's code published: Powertools writes EMF lines to stdout."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.observability import metrics


@pytest.fixture(autouse=True)
def no_leftover_metrics() -> Iterator[None]:
    """Given: no metric recorded by an earlier test (Powertools keeps them per process)."""
    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def emf_lines(out: str) -> list[dict[str, Any]]:
    """The EMF lines among a test's stdout lines."""
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def published(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """When the invocation ends: the EMF lines its flush writes (log_metrics' flush, as the middleware does)."""
    metrics.flush_metrics()
    return emf_lines(capsys.readouterr().out)

"""Publishing business metrics: once per invocation, and nothing (no warning) when there are none."""

import warnings

import pytest

from chalicelib.config import get_settings
from chalicelib.observability import count, flush_metrics, metrics_flushed
from tests.metrics_support import emf_lines, no_leftover_metrics  # noqa: F401 - an autouse fixture


def test_an_invocation_with_outcomes_publishes_them_as_one_emf_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Given an invocation that records two outcomes of one kind and one of another
    # When it ends
    with metrics_flushed():
        count("ThingsDone")
        count("ThingsDone")
        count("ThingsFailed")
    # Then one EMF line in the service's namespace carries them all
    [emf] = emf_lines(capsys.readouterr().out)
    directive = emf["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == get_settings().service_name
    assert emf["ThingsDone"] == [1.0, 1.0] and emf["ThingsFailed"] == [1.0]
    assert emf["service"] == get_settings().service_name


def test_an_invocation_that_raises_still_publishes_what_happened(capsys: pytest.CaptureFixture[str]) -> None:
    def invocation() -> None:
        with metrics_flushed():
            count("ThingsDone")
            raise RuntimeError("boom")

    # When an invocation records an outcome and then fails
    with pytest.raises(RuntimeError):
        invocation()
    # Then the outcome is published anyway
    assert [emf["ThingsDone"] for emf in emf_lines(capsys.readouterr().out)] == [[1.0]]


def test_an_invocation_without_outcomes_publishes_nothing_and_does_not_warn(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When an invocation that recorded nothing ends
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with metrics_flushed():
            pass
        flush_metrics()
    # Then there is no EMF line (and no "No application metrics to publish" warning)
    assert emf_lines(capsys.readouterr().out) == []

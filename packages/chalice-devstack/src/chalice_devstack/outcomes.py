"""How one invocation's outcome reads, on the console and in the status view: `ok`, `ERROR ...`, `k of n failed: ...`.

A batch trigger (SQS, streams) can fail some records without raising: the function answers
`batchItemFailures`. Lambda then redelivers those records, so the line says how many of the
batch failed and why, never `ok`. The why is the error of the failing records as the function's
batch processor caught it (`failure_reasons`: Powertools' processors are followed), else the
function's own exception when it raised.
"""

import functools
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

REASON_CHARS = 200  # one console line: a pydantic error's first lines, not its whole report
NO_REASON = "no reason given (the function named them in batchItemFailures without raising)"

_local = threading.local()


def one_line(error_type: str | None, message: str | None) -> str:
    """`Type: message` on one line: a multi-line message's lines joined, cut at REASON_CHARS."""
    lines = [line.strip() for line in (message or "").strip().splitlines() if line.strip()]
    # pydantic closes each error with a documentation link: not the reason, and the line's end is short of room.
    text = "; ".join(line for line in lines if not line.startswith("For further information visit"))
    text = f"{error_type}: {text}" if error_type else text
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."


def describe(item: Mapping[str, Any]) -> str:
    """An invocation's outcome (an InvocationResult's fields): ok [status], ERROR ..., k of n failed: why, THROTTLED."""
    if item.get("throttled"):
        return "THROTTLED: its reserved concurrency is in use (the trigger retries as on AWS)"
    failed, size = item.get("failed_items") or 0, item.get("batch_size")
    error = one_line(item.get("error_type"), item.get("error_message"))
    if failed and size is not None and not item.get("ok", True):
        return f"ERROR {failed} of {size} failed: {error}"
    if failed and size is not None:
        return f"{failed} of {size} failed: {item.get('failure_reason') or NO_REASON}"
    if not item.get("ok", True):
        return f"ERROR {error}"
    payload = item.get("payload")
    return f"ok {payload['statusCode']}" if isinstance(payload, dict) and "statusCode" in payload else "ok"


def failed(item: Mapping[str, Any]) -> bool:
    """Whether an invocation belongs among the errors: the function raised, or records of its batch failed."""
    return not item.get("ok", True) or bool(item.get("failed_items"))


@contextmanager
def failure_reasons() -> Iterator[list[str]]:
    """Collect, on this thread, the errors a batch processor catches for the records it fails."""
    follow_powertools()
    reasons: list[str] = []
    _local.reasons = reasons
    try:
        yield reasons
    finally:
        _local.reasons = None


def summarize_reasons(reasons: list[str]) -> str:
    """The first distinct reason, and how many others there were."""
    distinct = list(dict.fromkeys(reasons))
    if not distinct:
        return NO_REASON
    others = f" (+{len(distinct) - 1} other reason{'s' if len(distinct) > 2 else ''})" if len(distinct) > 1 else ""
    return distinct[0] + others


def follow_powertools() -> None:
    """Note every record Powertools' batch processors fail (its documented failure_handler hook), if it is loaded."""
    import sys

    base = sys.modules.get("aws_lambda_powertools.utilities.batch.base")
    processor = getattr(base, "BasePartialProcessor", None)
    if processor is None or getattr(processor.failure_handler, "_devstack", False):
        return
    original = processor.failure_handler

    @functools.wraps(original)
    def failure_handler(self: Any, record: Any, exception: Any) -> Any:
        reasons = getattr(_local, "reasons", None)
        if reasons is not None and exception and exception[0] is not None:
            reasons.append(one_line(exception[0].__name__, str(exception[1])))
        return original(self, record, exception)

    failure_handler._devstack = True  # type: ignore[attr-defined]
    processor.failure_handler = failure_handler

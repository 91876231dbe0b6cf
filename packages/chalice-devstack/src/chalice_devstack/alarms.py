"""The project's CloudWatch alarms, evaluated offline against devstack's own state.

moto stores alarms but never evaluates them, so devstack does it for the metrics it can read itself:

- AWS/SQS ApproximateNumberOfMessagesVisible: the queue's ApproximateNumberOfMessages, now;
- AWS/States ExecutionsFailed / ExecutionsTimedOut: ListExecutions with that status, stopped within
  the alarm's window (Period x EvaluationPeriods);
- AWS/Lambda IteratorAge: the stream pollers' age of each batch's last record, within the window.

Every other alarm (Lambda Errors and Throttles, API Gateway 5XXError and Latency...) is listed as
evaluated on AWS only. A state's "since" is when devstack first saw it (alarms are evaluated on each
status request and once at start).
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalice_devstack.intrinsics import Scope, resolve

log = logging.getLogger(__name__)

ALARM_TYPE = "AWS::CloudWatch::Alarm"
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
EXECUTION_STATUSES = {"ExecutionsFailed": "FAILED", "ExecutionsTimedOut": "TIMED_OUT", "ExecutionsAborted": "ABORTED"}

# (wall time, value) samples of one metric; a reader returns the samples for an alarm's dimensions.
Samples = list[tuple[float, float]]
IteratorAges = Callable[[str], Iterable[tuple[float, float]]]


@dataclass(frozen=True)
class Alarm:
    """One AWS::CloudWatch::Alarm of the resources file, its intrinsics resolved."""

    logical_id: str
    name: str
    namespace: str
    metric: str
    dimensions: dict[str, str]
    threshold: float
    comparison: str
    window: float  # seconds: Period x EvaluationPeriods
    missing_data: str


def alarms_of(template: dict[str, Any], scope: Scope) -> list[Alarm]:
    """Every metric alarm of the template (alarms whose intrinsics do not resolve locally are logged and left out)."""
    found = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != ALARM_TYPE:
            continue
        try:
            found.append(_alarm(logical_id, resolve(resource.get("Properties", {}), scope)))
        except Exception as error:  # one alarm devstack cannot read must not hide the others
            log.warning("devstack: alarm %s not evaluated: %s", logical_id, error)
    return found


def _alarm(logical_id: str, properties: dict[str, Any]) -> Alarm:
    """An Alarm from resolved AWS::CloudWatch::Alarm properties."""
    return Alarm(
        logical_id=logical_id,
        name=str(properties.get("AlarmName", logical_id)),
        namespace=str(properties.get("Namespace", "")),
        metric=str(properties.get("MetricName", "")),
        dimensions={item["Name"]: str(item["Value"]) for item in properties.get("Dimensions", [])},
        threshold=float(properties.get("Threshold", 0)),
        comparison=str(properties.get("ComparisonOperator", "GreaterThanOrEqualToThreshold")),
        window=float(properties.get("Period", 60)) * float(properties.get("EvaluationPeriods", 1)),
        missing_data=str(properties.get("TreatMissingData", "missing")),
    )


@dataclass
class Readers:
    """Where each metric devstack can evaluate comes from: SQS attributes, Step Functions, the stream pollers."""

    clients: Callable[[str], Any]
    iterator_ages: IteratorAges = lambda _function: ()

    def samples(self, alarm: Alarm, now: float) -> Samples | None:
        """The alarm's datapoints within its window; None when devstack cannot read this metric."""
        if (alarm.namespace, alarm.metric) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible"):
            return [(now, self.queue_depth(alarm.dimensions["QueueName"]))]
        if alarm.namespace == "AWS/States" and alarm.metric in EXECUTION_STATUSES:
            return self.executions(
                alarm.dimensions["StateMachineArn"], EXECUTION_STATUSES[alarm.metric], now - alarm.window
            )
        if (alarm.namespace, alarm.metric) == ("AWS/Lambda", "IteratorAge"):
            ages = self.iterator_ages(alarm.dimensions["FunctionName"])
            return [(at, age) for at, age in ages if at >= now - alarm.window]
        return None

    def queue_depth(self, queue_name: str) -> float:
        """Messages visible in the queue now."""
        sqs = self.clients("sqs")
        url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        return float(attributes["Attributes"]["ApproximateNumberOfMessages"])

    def executions(self, machine_arn: str, status: str, since: float) -> Samples:
        """One datapoint, the count of executions that ended in `status` since then (none: missing data)."""
        listed = self.clients("stepfunctions").list_executions(stateMachineArn=machine_arn, statusFilter=status)
        ended = [item for item in listed["executions"] if _stopped(item) >= since]
        return [(max(map(_stopped, ended)), float(len(ended)))] if ended else []


def _stopped(execution: dict[str, Any]) -> float:
    stopped = execution.get("stopDate") or execution["startDate"]
    return float(stopped.timestamp())


@dataclass
class AlarmBoard:
    """The alarms' current states, and since when each holds (first seen by devstack)."""

    alarms: list[Alarm]
    readers: Readers
    _states: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def evaluate(self, now: float | None = None) -> list[dict[str, Any]]:
        """Evaluate every alarm devstack can read; one JSON-ready row per alarm, those it cannot marked."""
        now = time.time() if now is None else now
        with self._lock:  # status requests may overlap; transitions must be recorded once
            return [self._row(alarm, now) for alarm in self.alarms]

    def _row(self, alarm: Alarm, now: float) -> dict[str, Any]:
        """One alarm's row: its state, since when, and why."""
        row: dict[str, Any] = {"alarm": alarm.name, "logical_id": alarm.logical_id, "metric": alarm.metric}
        try:
            samples = self.readers.samples(alarm, now)
        except Exception as error:  # a status view shows a broken reading instead of failing
            return row | {"state": None, "evaluated": False, "error": f"{type(error).__name__}: {error}"}
        if samples is None:
            return row | {"state": None, "evaluated": False, "reason": f"{alarm.namespace} {alarm.metric}: AWS only"}
        state, reason = self._judge(alarm, samples)
        since = self._transition(alarm.logical_id, state, now)
        return row | {"state": state, "evaluated": True, "since": _iso(since), "reason": reason}

    def _judge(self, alarm: Alarm, samples: Samples) -> tuple[str, str]:
        """ALARM when the window's worst datapoint crosses the threshold; missing data as TreatMissingData says."""
        compare = COMPARISONS.get(alarm.comparison, COMPARISONS["GreaterThanOrEqualToThreshold"])
        if not samples:
            missing = {"breaching": "ALARM", "notBreaching": "OK", "missing": "INSUFFICIENT_DATA"}
            previous = self._states.get(alarm.logical_id, ("INSUFFICIENT_DATA", 0.0))[0]
            return missing.get(alarm.missing_data, previous), "no datapoints in the window"
        values = [value for _at, value in samples]
        # The datapoint nearest to breaching decides: the highest for "greater", the lowest for "less".
        value = min(values) if alarm.comparison.startswith("Less") else max(values)
        sign = {"GreaterThanOrEqualToThreshold": ">=", "GreaterThanThreshold": ">"}.get(alarm.comparison, "<")
        verdict = "ALARM" if compare(value, alarm.threshold) else "OK"
        return verdict, f"{alarm.metric} {value:g} {sign if verdict == 'ALARM' else 'vs'} {alarm.threshold:g}"

    def _transition(self, logical_id: str, state: str, now: float) -> float:
        """Record a state change; return since when the alarm has been in `state`."""
        previous = self._states.get(logical_id)
        if previous is None or previous[0] != state:
            self._states[logical_id] = (state, now)
        return self._states[logical_id][1]


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def render(rows: list[dict[str, Any]]) -> list[str]:
    """The alarms as console lines: each evaluated one with its state, the AWS-only ones summed up."""
    lines = ["alarms:"]
    evaluated = [row for row in rows if row["evaluated"]]
    lines += [f"  {row['alarm']}: {row['state']} since {row['since']} ({row['reason']})" for row in evaluated]
    lines += [f"  {row['alarm']}: not evaluated ({row['error']})" for row in rows if "error" in row]
    others = sorted({row["metric"] for row in rows if not row["evaluated"] and "error" not in row})
    if others:
        count = sum(1 for row in rows if not row["evaluated"] and "error" not in row)
        lines.append(f"  not evaluated offline ({count}, on AWS only): {', '.join(others)}")
    return lines if rows else ["alarms:", "  none"]

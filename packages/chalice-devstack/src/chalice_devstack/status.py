"""The devstack status view: queue and DLQ depths, executions, alarm states (chalice_devstack.alarms), invocations."""

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from chalice_devstack.alarms import render as render_alarms
from chalice_devstack.intrinsics import Scope
from chalice_devstack.outcomes import describe, failed

QUEUE_TYPE = "AWS::SQS::Queue"
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
_DEPTHS = {
    "visible": "ApproximateNumberOfMessages",
    "in_flight": "ApproximateNumberOfMessagesNotVisible",
    "delayed": "ApproximateNumberOfMessagesDelayed",
}


def status(
    clients: Callable[[str], Any],
    template: dict[str, Any],
    scope: Scope,
    invocations: Iterable[Any] = (),
    limit: int = 10,
) -> dict[str, Any]:
    """Everything `make status` shows, as a JSON-ready dict (newest first everywhere)."""
    recent = [_invocation(result) for result in invocations][-limit * 5 :][::-1]
    return {
        "queues": queue_depths(clients, template, scope),
        "state_machines": recent_executions(clients, template, scope, limit),
        "invocations": recent[:limit],
        "errors": [item for item in recent if failed(item)][:limit],
    }


def dead_letter_queues(template: dict[str, Any]) -> set[str]:
    """Logical ids of the queues that receive failures: redrive targets and on-failure destinations."""
    found: set[str] = set()
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        found |= referenced_ids(properties.get("RedrivePolicy", {}).get("deadLetterTargetArn"))
        for event in properties.get("Events", {}).values():
            on_failure = event.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {})
            found |= referenced_ids(on_failure.get("Destination"))
    return found


def referenced_ids(value: Any) -> set[str]:
    """The logical ids an intrinsic names: {"Fn::GetAtt": [X, Arn]}, {"Fn::Sub": "${X.Arn}"}, {"Ref": X}."""
    if not isinstance(value, dict) or len(value) != 1:
        return set()
    ((key, arg),) = value.items()
    if key == "Fn::GetAtt":
        return {arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]}
    if key == "Ref":
        return {str(arg)}
    if key == "Fn::Sub" and isinstance(arg, str):
        return {name.split(".", 1)[0] for name in _sub_names(arg)}
    return set()


def _sub_names(text: str) -> list[str]:
    return [part.split("}", 1)[0] for part in text.split("${")[1:] if "}" in part]


def queue_depths(clients: Callable[[str], Any], template: dict[str, Any], scope: Scope) -> list[dict[str, Any]]:
    """Depth of every queue in resources.yaml, DLQs marked."""
    sqs = clients("sqs")
    dlqs = dead_letter_queues(template)
    rows = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != QUEUE_TYPE or logical_id not in scope.attributes:
            continue
        attributes = scope.attributes[logical_id]
        row: dict[str, Any] = {"queue": attributes["QueueName"], "logical_id": logical_id, "dlq": logical_id in dlqs}
        try:
            found = sqs.get_queue_attributes(QueueUrl=attributes["QueueUrl"], AttributeNames=list(_DEPTHS.values()))
            row |= {name: int(found["Attributes"].get(key, 0)) for name, key in _DEPTHS.items()}
        except Exception as error:  # a status view reports a broken queue instead of failing
            row["error"] = str(error)
        rows.append(row)
    return rows


def recent_executions(
    clients: Callable[[str], Any], template: dict[str, Any], scope: Scope, limit: int = 10
) -> list[dict[str, Any]]:
    """The newest executions of every state machine in resources.yaml, with their status."""
    sfn = clients("stepfunctions")
    machines = []
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") not in STATE_MACHINE_TYPES or logical_id not in scope.attributes:
            continue
        arn = scope.attributes[logical_id]["Arn"]
        machine: dict[str, Any] = {"state_machine": arn.rsplit(":", 1)[-1], "logical_id": logical_id}
        try:
            executions = sfn.list_executions(stateMachineArn=arn)["executions"]
            executions.sort(key=lambda item: item["startDate"], reverse=True)
            counts: dict[str, int] = {}
            for execution in executions:
                counts[execution["status"]] = counts.get(execution["status"], 0) + 1
            machine["counts"] = counts
            machine["executions"] = [
                {
                    "name": item["name"],
                    "status": item["status"],
                    "started": _iso(item["startDate"]),
                    "stopped": _iso(item.get("stopDate")),
                }
                for item in executions[:limit]
            ]
        except Exception as error:  # as above: show the problem in place
            machine["error"] = str(error)
        machines.append(machine)
    return machines


def _invocation(result: Any) -> dict[str, Any]:
    """One entry of the function registry's ring as plain JSON data."""
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        data = dataclasses.asdict(result)
    elif isinstance(result, dict):
        data = dict(result)
    else:
        data = dict(vars(result))
    data.pop("payload", None)  # can be large; the console and the logs have it
    return {key: _iso(value) if isinstance(value, datetime) else value for key, value in data.items()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def render(data: dict[str, Any]) -> str:
    """The status dict as console text for `make status`."""
    lines = ["queues:"]
    for queue in data["queues"]:
        label = " (DLQ)" if queue["dlq"] else ""
        if "error" in queue:
            lines.append(f"  {queue['queue']}{label}: {queue['error']}")
        else:
            lines.append(
                f"  {queue['queue']}{label}: {queue['visible']} visible, {queue['in_flight']} in flight,"
                f" {queue['delayed']} delayed"
            )
    lines.append("state machines:")
    for machine in data["state_machines"]:
        counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(machine.get("counts", {}).items())) or "none run"
        lines.append(f"  {machine['state_machine']}: {machine.get('error', counts)}")
        lines += [
            f"    {item['name']}: {item['status']} (started {item['started']})"
            for item in machine.get("executions", [])
        ]
    if "alarms" in data:
        lines += render_alarms(data["alarms"])
    lines.append("recent invocations:")
    lines += [f"  {_describe(item)}" for item in data["invocations"]] or ["  none"]
    lines.append("recent errors:")
    lines += [f"  {_describe(item)}" for item in data["errors"]] or ["  none"]
    return "\n".join(lines)


def _describe(item: dict[str, Any]) -> str:
    outcome = describe(item)
    duration = item.get("duration_ms")
    took = f" {duration:.1f} ms" if isinstance(duration, int | float) else ""
    return f"{item.get('function', item.get('name', '?'))} <- {item.get('trigger', '?')}{took} {outcome}"

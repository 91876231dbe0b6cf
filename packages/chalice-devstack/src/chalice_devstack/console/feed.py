"""The console's JSON feed: the status view (chalice_devstack.status, what `devstack status` prints) plus what
only a page can show: each queue's messages, the invocations' log lines, the state machines drawn with
the selected execution's path, stream shards and schedules.
"""

import http.client
import json
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from chalice_devstack.console import asl
from chalice_devstack.endpoint import HOST, PEEK_PATH
from chalice_devstack.outcomes import describe
from chalice_devstack.redrive import pairs_by_dlq
from chalice_devstack.triggers.streams import StreamPoller

FEED_INVOCATIONS = 60
CORRELATION_KEYS = ("correlation_id", "correlationId", "correlation-id")
LAMBDA_LOG_MARKERS = ("START RequestId:", "END RequestId:", "REPORT RequestId:")


class Feed:
    """Builds the feed from a running devstack (chalice_devstack.stack.Stack); caches state machine drawings."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self._graphs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def build(self, selected: dict[str, str] | None = None) -> dict[str, Any]:
        """Everything the page shows; `selected`: the execution name to draw per state machine (else the newest)."""
        data: dict[str, Any] = self.stack.status(limit=FEED_INVOCATIONS)
        data.pop("errors", None)  # a subset of the invocations: the page filters them itself
        data["invocations"] = [invocation(item) for item in data["invocations"]]
        self.add_messages(data["queues"])
        for machine in data["state_machines"]:
            self.add_drawing(machine, (selected or {}).get(machine["logical_id"]))
        data["streams"] = self.streams()
        data["schedules"] = self.schedules()
        data["now"] = datetime.now(UTC).isoformat(timespec="seconds")
        return data

    def add_messages(self, queues: list[dict[str, Any]]) -> None:
        """Each queue's messages (peeked where moto runs) and, for a DLQ, the queue its redrive sends them to."""
        stack = self.stack
        pairs = pairs_by_dlq(stack.template, stack.scope)
        query = urlencode({"region": stack.settings.region, "queue": [q["queue"] for q in queues]}, doseq=True)
        held = endpoint_get(stack.settings.aws_port, f"{PEEK_PATH}?{query}")
        for queue in queues:
            queue["messages"] = held.get(queue["queue"], [])
            pair = pairs.get(queue["logical_id"])
            queue["redrive_to"] = pair.queue if pair else None

    def add_drawing(self, machine: dict[str, Any], selected: str | None) -> None:
        """The machine's graph, and the selected (else newest) execution's path through it."""
        arn = self.stack.scope.attributes[machine["logical_id"]]["Arn"]
        sfn = self.stack.client("stepfunctions")
        with self._lock:
            if arn not in self._graphs:
                definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
                self._graphs[arn] = asl.graph(definition)
        machine["graph"] = self._graphs[arn]
        executions = machine.get("executions", [])
        chosen = next((e for e in executions if e["name"] == selected), executions[0] if executions else None)
        if chosen is not None:
            execution_arn = f"{arn.replace(':stateMachine:', ':execution:')}:{chosen['name']}"
            events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
            machine["selected"] = {**chosen, **asl.execution_path(events)}

    def streams(self) -> list[dict[str, Any]]:
        """Each stream trigger's shards: the last sequence number processed and the batch under way (retry, bisect)."""
        pollers = self.stack.pollers
        rows = []
        for poller in pollers.pollers if pollers is not None else []:
            if not isinstance(poller, StreamPoller):
                continue
            under_way = dict(poller.batches_under_way)
            shards = [
                {
                    "shard": shard_id,
                    "position": poller.checkpoints.get(shard_id),
                    "buffered": len(shard.buffer),
                    "batch": under_way.get(shard_id),
                }
                for shard_id, shard in list(poller.shards.items())
            ]
            mapping = poller.mapping
            rows.append(
                {
                    "name": poller.name,
                    "function": mapping.function,
                    "stream": mapping.stream_arn.split(":", 5)[-1],  # the ARN's resource (a stream label holds colons)
                    "batch_size": mapping.batch_size,
                    "max_retries": mapping.max_retry_attempts,
                    "bisect": mapping.bisect_on_error,
                    "shards": shards,
                }
            )
        return rows

    def schedules(self) -> list[dict[str, Any]]:
        """Each schedule: its expression and next fire time (fire one now with POST /_devstack/schedules/NAME)."""
        pollers = self.stack.pollers
        if pollers is None:
            return []
        next_fire = pollers.schedule_poller.next_fire
        return [
            {
                "function": mapping.function,
                "expression": mapping.expression,
                "next": next_fire[mapping.function].isoformat(timespec="seconds")
                if mapping.function in next_fire
                else None,
            }
            for mapping in pollers.mappings.schedules
        ]


def invocation(item: dict[str, Any]) -> dict[str, Any]:
    """One status invocation with its outcome line, its log lines (Lambda's START/END/REPORT left out) and ids."""
    log = item.pop("log_tail", "") or ""
    lines = [line for line in log.splitlines() if line and not line.startswith(LAMBDA_LOG_MARKERS)]
    return {**item, "outcome": describe(item), "log": lines, "correlation_ids": correlation_ids(lines)}


def correlation_ids(lines: list[str]) -> list[str]:
    """The correlation ids the invocation's JSON log lines carry (Powertools' `correlation_id`, or alike)."""
    found: dict[str, None] = {}
    for line in lines:
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            found |= {str(record[key]): None for key in CORRELATION_KEYS if record.get(key)}
    return list(found)


def endpoint_get(port: int, path: str) -> dict[str, Any]:
    """GET a JSON answer from the AWS endpoint (the process holding moto)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        connection.request("GET", path)
        answer: dict[str, Any] = json.loads(connection.getresponse().read() or b"{}")
        return answer
    finally:
        connection.close()

"""Scheduled functions (`schedule`): Chalice's Rate/Cron expressions fired on time, or on demand."""

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalice.app import ScheduledEventConfig

from chalice_devstack.project import LOCAL_ACCOUNT_ID
from chalice_devstack.schedules import Schedule, ScheduleExpressionError, parse
from chalice_devstack.triggers.base import Discovery, Invoker, Outcome, TriggerError, to_cfn_resource_name

# The wait for the next fire time is on the monotonic clock; re-reading the wall clock this often
# catches a laptop that slept or a clock that was set.
CLOCK_CHECK_SECONDS = 60.0


@dataclass(frozen=True)
class ScheduleMapping:
    """A scheduled function: Chalice's schedule() expression and the EventBridge rule it becomes."""

    function: str
    function_arn: str
    logical_id: str
    expression: str
    rule_arn: str


def schedule_mapping(source: ScheduledEventConfig, discovery: Discovery) -> ScheduleMapping:
    """The rule `chalice deploy` would create for a scheduled function."""
    expression = source.schedule_expression
    rule = f"{discovery.physical_name(source.name)}-event"
    return ScheduleMapping(
        function=source.name,
        function_arn=discovery.function_arn(source.name),
        logical_id=to_cfn_resource_name(source.name),
        expression=expression if isinstance(expression, str) else expression.to_string(),
        rule_arn=discovery.arn("events", f"rule/{rule}"),
    )


def scheduled_event(mapping: ScheduleMapping, region: str, when: datetime) -> dict[str, Any]:
    """The EventBridge event a schedule rule sends its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [mapping.rule_arn],
        "detail": {},
    }


def parsed(mapping: ScheduleMapping) -> Schedule:
    """The mapping's expression parsed; a bad one is a TriggerError naming the function (one line at start)."""
    try:
        return parse(mapping.expression, function=mapping.function)
    except ScheduleExpressionError as error:
        raise TriggerError(str(error)) from None


class SchedulePoller:
    """Every schedule of the app: fires each on time (in its own thread, like an async invoke)."""

    name = "schedules"

    def __init__(self, mappings: list[ScheduleMapping], invoker: Invoker, region: str):
        self.invoker, self.region = invoker, region
        self.schedules: list[tuple[ScheduleMapping, Schedule]] = [(m, parsed(m)) for m in mappings]
        self.next_fire: dict[str, datetime] = {}  # by function: when each fires next (the console shows it)

    def prepare(self) -> None:
        """Nothing to set up: the expressions were parsed when the poller was made."""

    def run(self, stop: threading.Event) -> None:
        """Sleep until the next fire time (re-reading the clock at least every minute); fire what is due."""
        now = datetime.now(UTC)
        due = [schedule.next_after(now) for _, schedule in self.schedules]
        while self.schedules and not stop.is_set():
            self.next_fire = {mapping.function: when for (mapping, _), when in zip(self.schedules, due, strict=True)}
            now = datetime.now(UTC)
            for index, (mapping, schedule) in enumerate(self.schedules):
                if due[index] <= now:
                    when = due[index]
                    threading.Thread(target=self.fire, args=(mapping, when), daemon=True).start()
                    # After a pause (a suspended laptop) skip the missed runs instead of firing each.
                    due[index] = schedule.next_after(when)
                    if due[index] <= now:
                        due[index] = schedule.next_after(now)
            stop.wait(max(0.0, min(CLOCK_CHECK_SECONDS, (min(due) - datetime.now(UTC)).total_seconds())))

    def fire(self, mapping: ScheduleMapping, when: datetime | None = None) -> Outcome:
        """Invoke a scheduled function now with the event its rule would send."""
        event = scheduled_event(mapping, self.region, when or datetime.now(UTC))
        return self.invoker.invoke(mapping.function, event, f"schedule:{mapping.expression}")

"""The app's schedules as EventBridge rules in moto, so `aws events list-rules` / `describe-rule` show them.

devstack fires schedules itself (pollers.SchedulePoller); moto only has to know the rules exist, as
`chalice deploy` would have created them: `<app>-<stage>-<function>-event`, the expression and the
function as target. The rules are put into moto lazily, on the first EventBridge request once the
app's schedules are known, so starting devstack never pays for moto's EventBridge backend.
"""

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

RULES_PATH = "/_devstack/schedule-rules"
EVENTS_TARGET_PREFIX = "AWSEvents."
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def schedule_rules(mappings: Any) -> list[dict[str, str]]:
    """The rule of every schedule mapping (pollers.ScheduleMapping): name, expression, target, region."""
    schedules = getattr(mappings, "schedules", None) or []
    return [
        {
            "Name": mapping.rule_arn.rsplit("/", 1)[-1],
            "ScheduleExpression": mapping.expression,
            "TargetArn": mapping.function_arn,
            "Region": mapping.rule_arn.split(":")[3],
        }
        for mapping in schedules
    ]


def is_events_request(environ: dict[str, Any]) -> bool:
    """True for an EventBridge API call (JSON protocol, X-Amz-Target AWSEvents.*)."""
    return str(environ.get("HTTP_X_AMZ_TARGET", "")).startswith(EVENTS_TARGET_PREFIX)


class ScheduleRuleSync:
    """Puts the app's schedule rules into moto once, before the first EventBridge request moto answers."""

    def __init__(self, aws: WSGIApp, control: WSGIApp) -> None:
        self.aws, self.control = aws, control
        self._done = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Create the rules if not done yet and the app's schedules are known (else try again next time)."""
        if self._done:
            return
        with self._lock:
            if self._done:
                return
            rules = self._rules()
            if rules is None:
                return
            for rule in rules:
                self._put(rule)
            self._done = True

    def _rules(self) -> list[dict[str, str]] | None:
        """The schedule rules from the control app; None while devstack is still starting."""
        from werkzeug.test import Client

        response = Client(self.control).get(RULES_PATH)
        if response.status_code != 200:
            return None
        rules: list[dict[str, str]] = json.loads(response.get_data(as_text=True))
        return rules

    def _put(self, rule: dict[str, str]) -> None:
        """PutRule and PutTargets through moto's own API (in this process)."""
        self._call(rule["Region"], "PutRule", {"Name": rule["Name"], "ScheduleExpression": rule["ScheduleExpression"]})
        target = {"Id": "1", "Arn": rule["TargetArn"]}
        self._call(rule["Region"], "PutTargets", {"Rule": rule["Name"], "Targets": [target]})

    def _call(self, region: str, action: str, body: dict[str, Any]) -> None:
        from chalice_devstack import moto_calls

        response = moto_calls.call(
            self.aws, region, "events", f"{EVENTS_TARGET_PREFIX}{action}", json.dumps(body), "1.1"
        )
        if response.status_code != 200:
            raise RuntimeError(f"moto refused {action} for rule {body}: {response.get_data(as_text=True)}")

"""The console's state machine drawing: edges, compensations and layers from any ASL, and an execution's path."""

from typing import Any

from chalice_devstack.console.asl import NODE_HEIGHT, ROW_GAP, execution_path, graph


def task(next_state: str | None = None, catches: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """A Task state going to next_state (None: the end), with (error, target) catches."""
    state: dict[str, Any] = {"Type": "Task", "Resource": "arn:aws:lambda:::function:f"}
    state |= {"Next": next_state} if next_state else {"End": True}
    if catches:
        state["Catch"] = [{"ErrorEquals": [error], "Next": target} for error, target in catches]
    return state


# The shape of an order saga: compensations in reverse order, reached only by Catch.
SAGA = {
    "StartAt": "Reserve",
    "States": {
        "Reserve": task("Charge", [("OutOfStock", "Cancel"), ("States.ALL", "Release")]),
        "Charge": task("Confirm", [("PaymentDeclined", "Release"), ("States.ALL", "Refund")]),
        "Confirm": task("Confirmed", [("States.ALL", "Refund")]),
        "Confirmed": {"Type": "Succeed"},
        "Refund": task("Release", [("States.ALL", "CompensationFailed")]),
        "Release": task("Cancel", [("States.ALL", "CompensationFailed")]),
        "Cancel": task("Cancelled", [("States.ALL", "CompensationFailed")]),
        "Cancelled": {"Type": "Succeed"},
        "CompensationFailed": {"Type": "Fail", "Error": "CompensationFailed"},
    },
}


def test_states_reached_only_through_a_catch_are_the_compensations() -> None:
    # When
    drawn = graph(SAGA)
    # Then
    compensations = {node["name"] for node in drawn["nodes"] if node["compensation"]}
    assert compensations == {"Refund", "Release", "Cancel", "Cancelled", "CompensationFailed"}
    catches = [(e["source"], e["target"], e["label"]) for e in drawn["edges"] if e["kind"] == "catch"]
    assert ("Charge", "Release", "PaymentDeclined") in catches and len(catches) == 8


def test_layers_follow_the_longest_path_and_the_happy_path_comes_first_in_a_row() -> None:
    # When
    nodes = {node["name"]: node for node in graph(SAGA)["nodes"]}
    # Then: Refund (after Confirm) comes before Release, which comes before Cancel
    row = NODE_HEIGHT + ROW_GAP
    assert [nodes[name]["y"] // row for name in ("Reserve", "Charge", "Confirm", "Refund", "Release", "Cancel")] == [
        0,
        1,
        2,
        3,
        4,
        5,
    ]
    assert nodes["Confirm"]["x"] < nodes["Refund"]["x"] == nodes["Release"]["x"]


def test_a_loop_back_through_a_choice_does_not_push_its_target_down() -> None:
    # Given: poll until done, a Choice looping back to the wait
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Check"},
            "Check": task("Done?"),
            "Done?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "End"}],
                "Default": "Wait",
            },
            "End": {"Type": "Succeed"},
        },
    }
    # When
    drawn = graph(definition)
    # Then
    layer = {node["name"]: node["y"] // (NODE_HEIGHT + ROW_GAP) for node in drawn["nodes"]}
    assert layer == {"Wait": 0, "Check": 1, "Done?": 2, "End": 3}
    assert {"source": "Done?", "target": "Wait", "kind": "choice", "label": "default"} in drawn["edges"]
    assert not any(node["compensation"] for node in drawn["nodes"])


def test_a_retry_that_works_leaves_no_failure_but_counts_the_attempts() -> None:
    # Given: Confirm failed once, then its retry succeeded
    events: list[dict[str, Any]] = [
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Confirm"}},
        {"type": "LambdaFunctionScheduled"},
        {"type": "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails": {"error": "TransientError"}},
        {"type": "LambdaFunctionScheduled"},
        {"type": "LambdaFunctionSucceeded"},
        {"type": "SucceedStateEntered", "stateEnteredEventDetails": {"name": "Confirmed"}},
        {"type": "ExecutionSucceeded"},
    ]
    # When / Then
    assert execution_path(events) == {"path": ["Confirm", "Confirmed"], "attempts": {"Confirm": 2}, "failures": {}}


def test_an_executions_path_counts_retries_and_names_where_it_failed() -> None:
    # Given: Charge ran twice (a retry) and its error was caught; the Fail state ended the execution
    events: list[dict[str, Any]] = [
        {"type": "ExecutionStarted"},
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Charge"}},
        {"type": "LambdaFunctionScheduled"},
        {"type": "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails": {"error": "TransientError"}},
        {"type": "LambdaFunctionScheduled"},
        {"type": "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails": {"error": "PaymentDeclined"}},
        {"type": "TaskStateExited", "stateExitedEventDetails": {"name": "Charge"}},
        {"type": "FailStateEntered", "stateEnteredEventDetails": {"name": "Cancelled"}},
        {"type": "ExecutionFailed", "executionFailedEventDetails": {"error": "OrderCancelled"}},
    ]
    # When
    path = execution_path(events)
    # Then
    assert path == {
        "path": ["Charge", "Cancelled"],
        "attempts": {"Charge": 2},
        "failures": {"Charge": "PaymentDeclined", "Cancelled": "OrderCancelled"},
    }

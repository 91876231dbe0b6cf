"""A state machine's drawing: its states and transitions (from the ASL), laid out in layers, and an execution's path.

Generic over any ASL: edges come from `Next`, a Choice's rules and `Default`, and `Catch` (drawn as
error edges). A state reached only through a Catch is a compensation: the states a saga runs to undo
its work. Layers follow the longest forward path from `StartAt`; the happy path takes the first
columns and the compensations the columns after it, so they read as a column of their own.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

NODE_WIDTH, NODE_HEIGHT = 168, 34
COLUMN_GAP, ROW_GAP, MARGIN = 56, 30, 32  # room between columns and on the sides for the edges to pass
# History events that mark a failure in the state the execution was in.
FAILURE_EVENTS = ("Failed", "TimedOut", "Aborted")


@dataclass(frozen=True)
class Edge:
    """A transition: `kind` is next, choice or catch (an error route, labelled with its errors)."""

    source: str
    target: str
    kind: str
    label: str = ""


def edges(states: dict[str, Any]) -> list[Edge]:
    """Every transition between the machine's top-level states."""
    found: list[Edge] = []
    for name, state in states.items():
        if "Next" in state:
            found.append(Edge(name, state["Next"], "next"))
        for rule in state.get("Choices", []):
            if "Next" in rule:
                found.append(Edge(name, rule["Next"], "choice"))
        if "Default" in state:
            found.append(Edge(name, state["Default"], "choice", "default"))
        for catch in state.get("Catch", []):
            found.append(Edge(name, catch["Next"], "catch", ", ".join(catch.get("ErrorEquals", []))))
    return [edge for edge in found if edge.target in states]


def reachable(start: str, links: Iterable[Edge]) -> set[str]:
    """The states reached from `start` along `links`."""
    following: dict[str, list[str]] = {}
    for edge in links:
        following.setdefault(edge.source, []).append(edge.target)
    seen, pending = {start}, [start]
    while pending:
        for target in following.get(pending.pop(), []):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def layers(start: str, names: list[str], links: list[Edge]) -> dict[str, int]:
    """Each state's layer: the longest path to it from `start`, loops (back edges) left out."""
    following: dict[str, list[str]] = {}
    for edge in links:
        following.setdefault(edge.source, []).append(edge.target)
    order: list[str] = []  # reverse post-order of a depth-first walk: a topological order without back edges
    visiting: set[str] = set()
    done: set[str] = set()
    back: set[tuple[str, str]] = set()

    def walk(name: str) -> None:
        visiting.add(name)
        for target in following.get(name, []):
            if target in visiting:
                back.add((name, target))
            elif target not in done:
                walk(target)
        visiting.discard(name)
        done.add(name)
        order.append(name)

    for name in [start, *names]:
        if name not in done:
            walk(name)
    layer = dict.fromkeys(names, 0)
    for name in reversed(order):
        for target in following.get(name, []):
            if (name, target) not in back:
                layer[target] = max(layer[target], layer[name] + 1)
    return layer


def columns(names: list[str], layer: dict[str, int], happy: set[str]) -> dict[str, int]:
    """Each state's column: the happy path's states first in their row, compensations after the widest happy row."""
    rows: dict[tuple[int, bool], list[str]] = {}
    for name in names:
        rows.setdefault((layer[name], name not in happy), []).append(name)
    happy_width = max((len(members) for (_, compensation), members in rows.items() if not compensation), default=0)
    return {
        name: index + (happy_width if compensation else 0)
        for (_, compensation), members in rows.items()
        for index, name in enumerate(members)
    }


def graph(definition: dict[str, Any]) -> dict[str, Any]:
    """The machine's nodes (with positions) and edges, ready for the page to draw as SVG."""
    states: dict[str, Any] = definition.get("States", {})
    names = list(states)
    start = definition.get("StartAt", names[0] if names else "")
    links = edges(states)
    happy = reachable(start, [edge for edge in links if edge.kind != "catch"])
    layer = layers(start, names, links)
    column = columns(names, layer, happy)
    nodes = [
        {
            "name": name,
            "type": states[name].get("Type", "?"),
            "compensation": name not in happy,
            "x": MARGIN + column[name] * (NODE_WIDTH + COLUMN_GAP),
            "y": MARGIN + layer[name] * (NODE_HEIGHT + ROW_GAP),
        }
        for name in names
    ]
    width = MARGIN * 2 + (max(column.values(), default=0) + 1) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP
    height = MARGIN * 2 + (max(layer.values(), default=0) + 1) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    return {
        "start": start,
        "nodes": nodes,
        "edges": [vars(edge) for edge in links],
        "size": {"width": width, "height": height, "node_width": NODE_WIDTH, "node_height": NODE_HEIGHT},
    }


def execution_path(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The states an execution entered in order, how often each task ran, and where it failed in the end."""
    path: list[str] = []
    attempts: dict[str, int] = {}
    failures: dict[str, str] = {}
    for event in events:
        kind = event.get("type", "")
        entered = event.get("stateEnteredEventDetails")
        if entered:
            path.append(entered["name"])
        elif kind.endswith("Scheduled") and path:
            attempts[path[-1]] = attempts.get(path[-1], 0) + 1
        elif kind.endswith("Succeeded") and path:
            failures.pop(path[-1], None)  # a retry that worked: the state did not fail in the end
        elif kind.endswith(FAILURE_EVENTS) and path:
            details: dict[str, Any] = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            failures[path[-1]] = str(details.get("error") or kind)
    return {"path": path, "attempts": attempts, "failures": failures}

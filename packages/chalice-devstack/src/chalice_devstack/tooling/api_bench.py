"""`devstack bench api`: N concurrent keep-alive clients against the local API Gateway.

A benchmark that prints numbers, not a test. Every client opens its connection at the same
moment (a barrier), as a load test's users do, then sends its requests one after another on
that one keep-alive connection. It counts connection errors (refused, reset, dropped) apart
from HTTP answers, so a too-small listen backlog or thread limit shows as errors, not as slow
requests.

    devstack bench api [--clients 64] [--requests 50] [--path /] [--url http://127.0.0.1:8000]

Without --url it starts the project's devstack in a child process on free ports and stops it after.
"""

import http.client
import json
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from chalice_devstack.project import Project

CONNECT_TIMEOUT_SECONDS = 30.0


@dataclass
class ClientTally:
    """What one client saw: latencies of answered requests, statuses and connection errors."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    connection_errors: int = 0


def run_client(host: str, port: int, path: str, requests: int, start: threading.Barrier) -> ClientTally:
    """One keep-alive client: wait for the others, then send `requests` GETs on one connection."""
    tally = ClientTally()
    connection = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT_SECONDS)
    start.wait()
    for _ in range(requests):
        began = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            tally.connection_errors += 1
            connection.close()  # the next request reconnects
            continue
        tally.latencies_ms.append((time.perf_counter() - began) * 1000)
        tally.statuses[response.status] = tally.statuses.get(response.status, 0) + 1
    connection.close()
    return tally


def bench_url(url: str, path: str, clients: int, requests: int) -> dict[str, Any]:
    """Run `clients` concurrent clients against url; return the figures."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    start = threading.Barrier(clients + 1)
    tallies: list[ClientTally] = []
    lock = threading.Lock()

    def client() -> None:
        tally = run_client(host, port, path, requests, start)
        with lock:
            tallies.append(tally)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return summarize(tallies, clients, time.perf_counter() - began)


def summarize(tallies: list[ClientTally], clients: int, seconds: float) -> dict[str, Any]:
    """Totals over every client: answered, connection errors, >= 500, rps and latency percentiles."""
    latencies = sorted(ms for tally in tallies for ms in tally.latencies_ms)
    statuses: dict[int, int] = {}
    for tally in tallies:
        for status, count in tally.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "clients": clients,
        "answered": len(latencies),
        "connection_errors": sum(tally.connection_errors for tally in tallies),
        "responses_5xx": sum(count for status, count in statuses.items() if status >= 500),
        "statuses": {str(status): count for status, count in sorted(statuses.items())},
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p95_ms": round(_percentile(latencies, 95), 2),
        "p99_ms": round(_percentile(latencies, 99), 2),
    }


def _percentile(values: list[float], percent: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100)[percent - 1]


@contextmanager
def api_url(project: Project, stage: str, region: str, url: str | None) -> Iterator[str]:
    """The given url, or that of the project's devstack started for the bench."""
    if url:
        yield url
        return
    from chalice_devstack.testing import running_devstack

    with running_devstack(project, stage, region) as stack:
        yield stack.api_url


def bench(project: Project, stage: str, region: str, url: str | None, path: str, clients: int, requests: int) -> int:
    """Print one JSON object of figures; exit 1 when a connection failed or an answer was >= 500."""
    with api_url(project, stage, region, url) as base:
        figures = bench_url(base, path, clients, requests)
    print(json.dumps({"url": base, "path": path, "requests_per_client": requests, **figures}, indent=2))
    return 1 if figures["connection_errors"] or figures["responses_5xx"] else 0

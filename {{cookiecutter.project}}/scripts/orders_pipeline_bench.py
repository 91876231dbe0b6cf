"""Push N orders through a running devstack and print the pipeline's figures: `make bench-orders`.

Two runs of N orders. A burst: all N posted at once (8 at a time), then orders/s to a terminal
state (CONFIRMED/CANCELLED), p50/p95 from POST to terminal, and orders lost (not terminal within the
timeout; must be 0). Then steady: at most `--concurrency` orders in flight, a new one posted as one
ends, the latency one order sees under that load. Before them, one order's latency alone (after
one order that starts the environments an order needs: their cold starts are not the pipeline's
latency), and the CPU floor of one order (scripts/order_cpu_floor.py: its AWS calls and handler code
in one process): the burst's orders/s against what the floor allows on the machine's cores, and the
steady p95 against the single order's latency.

Latencies are the service's own timestamps (an order's `created_at` to the `updated_at` of its
terminal state), so the bench reads the orders rarely: its reads are not the pipeline's load.
Start devstack first (`make dev`).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
{%- if cookiecutter.include_auth == 'y' %}

from chalice_devstack.testing import cognito_token
{%- endif %}

TERMINAL = {"CONFIRMED", "CANCELLED"}
# Mostly approvals; the rest exercise every saga path (a short product gives out-of-stock).
TOKENS = ["tok_approve"] * 8 + ["tok_decline", "tok_transient_1"]
PRODUCTS = ["espresso-beans"] * 5 + ["filter-papers"] * 4 + ["limited-mug"]
POSTERS = 8  # the burst's concurrent POSTs
# The burst reads all its orders this often (pages of orders: the API, a function, DynamoDB) to
# learn which are done; the steady run reads each of its in-flight orders this often.
BURST_READ_SECONDS = 1.0
STEADY_READ_SECONDS = 0.2


def call(api: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
    """One JSON request to the API."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - the URL is the local API given on the command line
        api + path, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"null")


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of values fall (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def cpu_floor_ms(orders: int) -> float:
    """CPU ms of one order's AWS calls and handler code, measured in a process of its own (moto in-process)."""
    done = subprocess.run(  # noqa: S603 - this project's own script
        [sys.executable, "-m", "scripts.order_cpu_floor", "--orders", str(orders)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["cpu_ms_per_order"])


class Caller:
    """A fresh user with a profile, placing and reading its own orders through the API."""

    def __init__(self, api: str, endpoint: str) -> None:
        self.api = api
        email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
{%- if cookiecutter.include_auth == 'y' %}
        self.headers = {"Authorization": cognito_token(endpoint, f"bench-{uuid.uuid4().hex[:10]}")}
        self.user_id = call(api, "PUT", "/users/me", {"name": "bench", "email": email}, self.headers)["id"]
{%- else %}
        self.headers: dict[str, str] = {}
        self.user_id = call(api, "POST", "/users", {"name": "bench", "email": email})["id"]
{%- endif %}

    def place(self, line: dict[str, Any]) -> str:
        """POST one order (a fresh Idempotency-Key); its id."""
{%- if cookiecutter.include_auth == 'y' %}
        body = line
{%- else %}
        body = {**line, "user_id": self.user_id}
{%- endif %}
        order = call(self.api, "POST", "/orders", body, {"Idempotency-Key": str(uuid.uuid4()), **self.headers})
        return str(order["id"])

    def order(self, order_id: str) -> dict[str, Any]:
        """One order as the API returns it."""
        found: dict[str, Any] = call(self.api, "GET", f"/orders/{order_id}", headers=self.headers)
        return found

    def orders(self) -> list[dict[str, Any]]:
        """Every order of this user, page after page."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = call(self.api, "GET", f"/users/{self.user_id}/orders{query}", headers=self.headers)
            found.extend(page["items"])
            cursor = page.get("next")
            if not cursor:
                return found


def order_lines(count: int, seed: int) -> list[dict[str, Any]]:
    """count order bodies, a reproducible mix of products and payment outcomes."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload mix, not security
    return [
        {
            "items": [{"product_id": rng.choice(PRODUCTS), "quantity": rng.randint(1, 2)}],
            "payment_token": rng.choice(TOKENS),
        }
        for _ in range(count)
    ]


def stamp(order: dict[str, Any], field: str) -> float:
    """An order's timestamp field as epoch seconds."""
    return datetime.fromisoformat(order[field]).timestamp()


def figures(count: int, ended: list[dict[str, Any]]) -> dict[str, Any]:
    """Orders/s from the first order's creation to the last one's end, latencies, and losses."""
    latencies = [stamp(order, "updated_at") - stamp(order, "created_at") for order in ended]
    span = max((stamp(o, "updated_at") for o in ended), default=0.0) - min(
        (stamp(o, "created_at") for o in ended), default=0.0
    )
    statuses = [order["status"] for order in ended]
    return {
        "orders": count,
        "terminal": len(ended),
        "confirmed": statuses.count("CONFIRMED"),
        "cancelled": statuses.count("CANCELLED"),
        "lost": count - len(ended),
        "orders_per_second": round(len(ended) / span, 2) if span > 0 else None,
        "p50_seconds": round(statistics.median(latencies), 3) if latencies else None,
        "p95_seconds": round(percentile(latencies, 0.95), 3) if latencies else None,
        "wall_seconds": round(span, 2),
    }


def burst(api: str, endpoint: str, count: int, timeout: float, seed: int) -> dict[str, Any]:
    """Post count orders for one fresh user at once, then read its orders until all are terminal."""
    caller = Caller(api, endpoint)
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=POSTERS) as pool:
        placed = set(pool.map(caller.place, order_lines(count, seed)))
    ended: dict[str, dict[str, Any]] = {}
    while len(ended) < len(placed) and time.monotonic() < deadline:
        time.sleep(BURST_READ_SECONDS)
        ended = {order["id"]: order for order in caller.orders() if order["status"] in TERMINAL}
    return figures(count, [ended[order_id] for order_id in placed if order_id in ended])


def steady(api: str, endpoint: str, count: int, concurrency: int, timeout: float, seed: int) -> dict[str, Any]:
    """count orders with at most `concurrency` in flight: each of that many users places its next one as one ends."""
    lines = iter(order_lines(count, seed))
    taking = threading.Lock()
    deadline = time.monotonic() + timeout

    def next_line() -> dict[str, Any] | None:
        with taking:
            return next(lines, None)

    def one_user() -> list[dict[str, Any]]:
        caller, ended = Caller(api, endpoint), []
        while (line := next_line()) is not None:
            order = caller.order(caller.place(line))
            while order["status"] not in TERMINAL and time.monotonic() < deadline:
                time.sleep(STEADY_READ_SECONDS)
                order = caller.order(order["id"])
            if order["status"] in TERMINAL:
                ended.append(order)
        return ended

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        users = [pool.submit(one_user) for _ in range(concurrency)]
        return figures(count, [order for user in users for order in user.result()])


def summary(single: dict[str, Any], bursting: dict[str, Any], steadily: dict[str, Any], floor_ms: float) -> str:
    """Both runs against their floors, as ratios."""
    cores = os.cpu_count() or 1
    ceiling = cores * 1000 / floor_ms
    alone = single["p50_seconds"] or 0.0
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())

    def rates(run: dict[str, Any]) -> str:
        rate = run["orders_per_second"] or 0.0
        return f"{rate:.2f} orders/s ({rate / ceiling:.0%} of the floor's {ceiling:.1f}/s on {cores} cores)"

    def latencies(run: dict[str, Any]) -> str:
        p95 = run["p95_seconds"] or 0.0
        return f"p50 {run['p50_seconds']} s, p95 {p95} s to terminal, p95 / single = {p95 / alone:.1f}x"

    return "\n".join(
        [
            f"CPU floor of one order: {floor_ms:.1f} ms (its AWS calls + handler code in one process)",
            f"single order: {alone} s to terminal",
            f"burst of {bursting['orders']}: {rates(bursting)}; {latencies(bursting)}; lost {bursting['lost']}",
            f"steady, {steadily['concurrency']} in flight: {rates(steadily)}; {latencies(steadily)};"
            f" lost {steadily['lost']}",
            f"load average {load}",
        ]
    )


def main() -> None:
    """CLI: python -m scripts.orders_pipeline_bench [--orders 200] [--concurrency 8] [--api URL]."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566")
    parser.add_argument("--orders", type=int, default=200, help="orders in the burst, and in the steady run")
    parser.add_argument("--concurrency", type=int, default=POSTERS, help="the steady run's orders in flight")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds each run waits for its orders")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--floor-orders", type=int, default=20, help="orders the CPU floor is the median of")
    args = parser.parse_args()
    if args.orders < 1 or args.concurrency < 1:
        parser.error("--orders and --concurrency must be at least 1")
    api = args.api.rstrip("/")
    floor_ms = cpu_floor_ms(args.floor_orders)
    burst(api, args.endpoint, 1, args.timeout, args.seed)  # warms the functions one order runs
    single = burst(api, args.endpoint, 1, args.timeout, args.seed)
    bursting = burst(api, args.endpoint, args.orders, args.timeout, args.seed)
    steadily = {
        **steady(api, args.endpoint, args.orders, args.concurrency, args.timeout, args.seed),
        "concurrency": args.concurrency,
    }
    print(json.dumps({"single": single, "burst": bursting, "steady": steadily}, indent=2))
    print(summary(single, bursting, steadily, floor_ms))


if __name__ == "__main__":
    main()

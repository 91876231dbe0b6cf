"""Push N orders through a running devstack and print the pipeline's figures: `make bench-orders`.

Orders/s to a terminal state, p50/p95 time from POST to CONFIRMED/CANCELLED, and orders lost
(not terminal within the timeout; must be 0). Start devstack first (`make dev`). Before the
burst, one order's latency alone (after one order that starts the environments an order needs:
their cold starts are not the pipeline's latency), and the CPU floor of one order (scripts/order_cpu_floor.py:
its AWS calls and handler code in one process): the burst's orders/s against what the floor
allows on the machine's cores, and its p95 against the single order's latency.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
{%- if cookiecutter.include_auth == 'y' %}

from chalice_devstack.testing import cognito_token
{%- endif %}

TERMINAL = {"CONFIRMED", "CANCELLED"}
# Mostly approvals; the rest exercise every saga path (a short product gives out-of-stock).
TOKENS = ["tok_approve"] * 8 + ["tok_decline", "tok_transient_1"]
PRODUCTS = ["espresso-beans"] * 5 + ["filter-papers"] * 4 + ["limited-mug"]
# Between two reads of the orders: at least this, and at least as long as the last read took, so that
# the bench's own reads (pages of orders: the API, a function, DynamoDB) use at most half the time.
MIN_POLL_SECONDS = 0.1


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


def summary(single: dict[str, Any], burst: dict[str, Any], floor_ms: float) -> str:
    """The burst against its floors, as ratios."""
    cores = os.cpu_count() or 1
    ceiling = cores * 1000 / floor_ms
    rate = burst["orders_per_second"] or 0.0
    p95 = burst["p95_seconds"] or 0.0
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return "\n".join(
        [
            f"CPU floor of one order: {floor_ms:.1f} ms (its AWS calls + handler code in one process)",
            f"orders/s: {rate:.2f}, {rate / ceiling:.0%} of the floor's {ceiling:.1f}/s on {cores} cores",
            f"p50 {burst['p50_seconds']} s, p95 {p95} s to terminal; single order {single['p50_seconds']} s;"
            f" p95 / single = {p95 / single['p50_seconds']:.1f}x",
            f"lost: {burst['lost']} of {burst['orders']} (load average {load})",
        ]
    )


def new_user(api: str, endpoint: str) -> tuple[str, dict[str, str]]:
    """A fresh user with a profile: its id, and the headers each of its requests carries."""
{%- if cookiecutter.include_auth == 'y' %}
    signed_in = {"Authorization": cognito_token(endpoint, f"bench-{uuid.uuid4().hex[:10]}")}
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    user = call(api, "PUT", "/users/me", {"name": "bench", "email": email}, signed_in)
    return user["id"], signed_in
{%- else %}
    user = call(api, "POST", "/users", {"name": "bench", "email": f"bench-{uuid.uuid4().hex[:10]}@example.com"})
    return user["id"], {}
{%- endif %}


def run(api: str, endpoint: str, count: int, timeout: float, seed: int) -> dict[str, Any]:
    """Place count orders for one fresh user, then poll its orders until all are terminal."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload mix, not security
    user_id, caller = new_user(api, endpoint)
    bodies = [
        {
{%- if cookiecutter.include_auth != 'y' %}
            "user_id": user_id,
{%- endif %}
            "items": [{"product_id": rng.choice(PRODUCTS), "quantity": rng.randint(1, 2)}],
            "payment_token": rng.choice(TOKENS),
        }
        for _ in range(count)
    ]
    posted: dict[str, float] = {}
    start = time.monotonic()

    def post(body: dict[str, Any]) -> None:
        order = call(api, "POST", "/orders", body, {"Idempotency-Key": str(uuid.uuid4()), **caller})
        posted[order["id"]] = time.monotonic()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(post, bodies))
    finished: dict[str, tuple[float, str]] = {}
    deadline = start + timeout
    while len(finished) < len(posted) and time.monotonic() < deadline:
        read_began = time.monotonic()
        cursor: str | None = None
        while True:
            query = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
            page = call(api, "GET", f"/users/{user_id}/orders{query}", headers=caller)
            now = time.monotonic()
            for order in page["items"]:
                if order["status"] in TERMINAL and order["id"] not in finished:
                    finished[order["id"]] = (now, order["status"])
            cursor = page.get("next")
            if not cursor:
                break
        time.sleep(max(MIN_POLL_SECONDS, time.monotonic() - read_began))
    latencies = [finished[order_id][0] - posted[order_id] for order_id in finished]
    elapsed = max((t for t, _ in finished.values()), default=time.monotonic()) - start
    statuses = [status for _, status in finished.values()]
    return {
        "orders": count,
        "terminal": len(finished),
        "confirmed": statuses.count("CONFIRMED"),
        "cancelled": statuses.count("CANCELLED"),
        "lost": count - len(finished),
        "orders_per_second": round(len(finished) / elapsed, 2) if elapsed > 0 else None,
        "p50_seconds": round(statistics.median(latencies), 3) if latencies else None,
        "p95_seconds": round(percentile(latencies, 0.95), 3) if latencies else None,
        "wall_seconds": round(elapsed, 2),
    }


def main() -> None:
    """CLI: python -m scripts.orders_pipeline_bench [--orders 200] [--api URL]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--floor-orders", type=int, default=20, help="orders the CPU floor is the median of")
    args = parser.parse_args()
    api = args.api.rstrip("/")
    floor_ms = cpu_floor_ms(args.floor_orders)
    run(api, args.endpoint, 1, args.timeout, args.seed)  # warms the functions one order runs
    single = run(api, args.endpoint, 1, args.timeout, args.seed)
    burst = run(api, args.endpoint, args.orders, args.timeout, args.seed)
    print(json.dumps(burst, indent=2))
    print(summary(single, burst, floor_ms))


if __name__ == "__main__":
    main()

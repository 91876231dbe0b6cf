"""Push N orders through a running devstack and print the pipeline's figures: `make bench-orders`.

Orders/s to a terminal state, p95 time from POST to CONFIRMED/CANCELLED, and orders lost
(not terminal within the timeout; must be 0). Start devstack first (`make dev`).
"""

import argparse
import json
import random
import statistics
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

TERMINAL = {"CONFIRMED", "CANCELLED"}
# Mostly approvals; the rest exercise every saga path (a short product gives out-of-stock).
TOKENS = ["tok_approve"] * 8 + ["tok_decline", "tok_transient_1"]
PRODUCTS = ["espresso-beans"] * 5 + ["filter-papers"] * 4 + ["limited-mug"]


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


def run(api: str, count: int, timeout: float, seed: int) -> dict[str, Any]:
    """Place count orders for one fresh user, then poll its orders until all are terminal."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload mix, not security
    user = call(api, "POST", "/users", {"name": "bench", "email": f"bench-{uuid.uuid4().hex[:10]}@example.com"})
    bodies = [
        {
            "user_id": user["id"],
            "items": [{"product_id": rng.choice(PRODUCTS), "quantity": rng.randint(1, 2)}],
            "payment_token": rng.choice(TOKENS),
        }
        for _ in range(count)
    ]
    posted: dict[str, float] = {}
    start = time.monotonic()

    def post(body: dict[str, Any]) -> None:
        order = call(api, "POST", "/orders", body, {"Idempotency-Key": str(uuid.uuid4())})
        posted[order["id"]] = time.monotonic()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(post, bodies))
    finished: dict[str, tuple[float, str]] = {}
    deadline = start + timeout
    while len(finished) < len(posted) and time.monotonic() < deadline:
        cursor: str | None = None
        while True:
            page = call(api, "GET", f"/users/{user['id']}/orders?limit=100" + (f"&cursor={cursor}" if cursor else ""))
            now = time.monotonic()
            for order in page["items"]:
                if order["status"] in TERMINAL and order["id"] not in finished:
                    finished[order["id"]] = (now, order["status"])
            cursor = page.get("next")
            if not cursor:
                break
        time.sleep(0.1)
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
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(run(args.api.rstrip("/"), args.orders, args.timeout, args.seed), indent=2))


if __name__ == "__main__":
    main()

"""The baseline runner's pure parts: the stats history it plots and the README it writes."""

from pathlib import Path

from loadtests import baseline

HISTORY = """Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,Total Request Count
1000,2,GET,/users/{id},10.0,0,2,5,10
1000,2,,Aggregated,12.0,0,2,6,12
1000,2,PIPELINE,order to terminal,1.0,0,300,900,1
1010,4,GET,/users/{id},20.5,0,3,N/A,200
"""


def test_history_keeps_http_endpoints_in_seconds_since_start(tmp_path: Path) -> None:
    # Given locust's stats history with an aggregate row, a custom measurement and a gap
    (tmp_path / "h.csv").write_text(HISTORY)
    # When read for the plot
    series = baseline.history(tmp_path / "h.csv")
    # Then only HTTP endpoints remain, timed from the first row, with N/A read as 0
    assert series == {"GET /users/{id}": [(0.0, 10.0, 5.0), (10.0, 20.5, 0.0)]}


def test_readme_names_the_machine_and_the_numbers() -> None:
    metrics = {"requests": 100, "failures": 0, "rps": 9.5, "p50_ms": 2.0, "p95_ms": 7.0, "p99_ms": 9.0}
    machine = {"cores": 2, "memory_gib": 7.7, "platform": "Linux", "python": "3.11.7",
               "load_average_1m_before": 3.1, "load_average_1m_after": 3.5, "versions": {"locust": "2.47.0"}}
    summary = {"run": {"started": "2026-11-22T21:00:00+00:00", "devstack": "split", "users": 10, "spawn_rate": 5,
                       "run_time": "60s", "machine": machine},
               "endpoints": {"GET /users/{id}": metrics}, "total": metrics, "pipeline": {"orders": {"orders_lost": 0}}}
    text = baseline.readme(summary, "make baseline", note="a stand-in")
    assert "2 cores, 7.7 GiB" in text and "3.1 / 3.5" in text and "locust 2.47.0" in text
    assert "| GET /users/{id} | 100 | 0 | 9.5 | 2 | 7 | 9 |" in text
    assert "orders_lost = 0" in text and "**Note:** a stand-in" in text

"""The 5-minute sweeps, with a fixed clock: stale PENDING items are finished once, fresh ones kept."""

from datetime import UTC, datetime{% if cookiecutter.include_orders == 'y' %}, timedelta{% endif %}
{%- if cookiecutter.include_uploads == 'y' %}
from typing import Any
{%- endif %}

import pytest

from chalicelib.config import Settings
from chalicelib.services import jobs

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Given: jobs reading two items per page and two pages per run; orders stale after 15 minutes."""
    chosen = Settings(job_page_size=2, job_max_pages=2)
    monkeypatch.setattr(jobs, "get_settings", lambda: chosen)
    return chosen
{%- if cookiecutter.include_orders == 'y' %}


def make_order(status: str, age: timedelta) -> str:
    import uuid

    from chalicelib.db.orders import orders_repository
    from chalicelib.schemas.orders import Order, OrderLine, OrderStatus

    created = NOW - age
    order = Order(
        id=str(uuid.uuid4()),
        user_id=str(uuid.uuid4()),
        items=[OrderLine(product_id="kettle", quantity=1)],
        payment_token="tok_ok",
        total_cents=6900,
        status=OrderStatus(status),
        created_at=created,
        updated_at=created,
    )
    orders_repository().create(order)
    return order.id


def status_of(order_id: str) -> tuple[str, str | None]:
    from chalicelib.db.orders import orders_repository

    order = orders_repository().get(order_id)
    assert order is not None
    return order.status.value, order.reason


def test_orders_pending_too_long_are_cancelled_and_the_rest_left_alone(aws: None, settings: Settings) -> None:
    # Given a stale PENDING order, a fresh PENDING one and an old CONFIRMED one
    max_age = timedelta(seconds=settings.pending_order_max_age_seconds)
    stale = make_order("PENDING", max_age + timedelta(minutes=1))
    fresh = make_order("PENDING", max_age - timedelta(minutes=1))
    done = make_order("CONFIRMED", max_age * 10)
    # When the sweep runs (until it has walked the whole table)
    runs = [jobs.sweep_stale_orders(NOW)]
    while runs[-1].cursor is not None and len(runs) < 10:
        runs.append(jobs.sweep_stale_orders(NOW))
    # Then only the stale order is cancelled, with the reason
    assert status_of(stale) == ("CANCELLED", f"expired: still PENDING after {settings.pending_order_max_age_seconds} s")
    assert status_of(fresh) == ("PENDING", None)
    assert status_of(done)[0] == "CONFIRMED"
    assert sum(run.acted for run in runs) == 1
    # And a second full sweep (or a concurrent one) cancels nothing more
    again = jobs.sweep_stale_orders(NOW)
    assert again.acted == 0
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}


def test_upload_expiry_pages_through_the_uploads_slice_and_resumes(
    aws: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the uploads slice's expiry, answering three pages
    from chalicelib.schemas.uploads import ExpiryRun
    from chalicelib.services import uploads

    pages = {None: ExpiryRun(seen=2, expired=1, cursor="p2"), "p2": ExpiryRun(seen=2, expired=0, cursor="p3")}
    pages["p3"] = ExpiryRun(seen=1, expired=1, cursor=None)
    calls: list[tuple[Any, ...]] = []

    def expire(now: datetime, limit: int, cursor: str | None = None) -> ExpiryRun:
        calls.append((now, limit, cursor))
        return pages[cursor]

    monkeypatch.setattr(uploads, "expire_stale_uploads", expire)
    # When the job runs twice (two pages per run)
    first, second = jobs.expire_stale_uploads(NOW), jobs.expire_stale_uploads(NOW)
    # Then the first run stops after two pages, the second resumes at the saved cursor and finishes
    assert [call[2] for call in calls] == [None, "p2", "p3"]
    assert all(call[:2] == (NOW, settings.job_page_size) for call in calls)
    assert (first.pages, first.acted, first.cursor) == (2, 1, "p3")
    assert (second.pages, second.acted, second.cursor) == (1, 1, None)
{%- endif %}

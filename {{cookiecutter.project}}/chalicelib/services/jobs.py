"""Scheduled jobs: sweeps of stale items and the daily status report.

Every job is bounded per run: it reads at most job_max_pages pages of job_page_size items,
saves where it stopped and resumes there on the next run (from the start once it reached
the end). Two runs at once are safe: each action is a conditional write that succeeds
once (an order leaves PENDING once), and saving the resume state is conditioned on the
version the run loaded, so the slower run's save is refused instead of moving the cursor back.
"""

from collections.abc import Callable
from datetime import UTC, datetime{% if cookiecutter.include_orders == 'y' %}, timedelta{% endif %}

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.config import get_settings
from chalicelib.db.jobs import jobs_repository
{%- if cookiecutter.include_orders == 'y' %}
from chalicelib.db.orders import orders_repository
{%- endif %}
from chalicelib.observability import logger, metrics
from chalicelib.schemas.jobs import JobPage, JobRun, JobState, StatusReport
{%- if cookiecutter.include_orders == 'y' %}
from chalicelib.schemas.orders import OrderStatus
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
from chalicelib.services import uploads
{%- endif %}

REPORT_JOB = "daily-report"

PageStep = Callable[[str | None, int], JobPage]


def run_bounded(job: str, step: PageStep) -> JobRun:
    """Run one bounded slice of a job: up to job_max_pages pages from its saved cursor."""
    settings = get_settings()
    repository = jobs_repository()
    state = repository.load(job)
    run = JobRun(job=job, cursor=state.cursor)
    while run.pages < settings.job_max_pages:
        page = step(run.cursor, settings.job_page_size)
        run.pages += 1
        run.seen += page.seen
        run.acted += page.acted
        run.cursor = page.cursor
        if page.cursor is None:
            break
    run.saved = repository.save(state.model_copy(update={"cursor": run.cursor}))
    logger.info("job run", extra=run.model_dump())
    return run
{%- if cookiecutter.include_orders == 'y' %}


def sweep_stale_orders(now: datetime | None = None) -> JobRun:
    """Cancel orders still PENDING longer than pending_order_max_age_seconds (the saga's safety net).

    Cancelling is the conditional PENDING -> CANCELLED the saga itself uses, so an order the
    saga finishes meanwhile is left alone; a saga still running finds its order cancelled
    and compensates (refund, release).
    """
    now = now or datetime.now(UTC)
    max_age = get_settings().pending_order_max_age_seconds
    cutoff = now - timedelta(seconds=max_age)
    reason = f"expired: still PENDING after {max_age} s"

    def step(cursor: str | None, limit: int) -> JobPage:
        page = jobs_repository().candidates(cursor, limit, entity="ORDER", status=OrderStatus.PENDING.value)
        stale = [order for order in page.items if order.created_at < cutoff]
        cancelled = sum(orders_repository().finish(order.id, OrderStatus.CANCELLED, reason, now) for order in stale)
        return JobPage(seen=len(page.items), acted=cancelled, cursor=page.cursor)

    return run_bounded("sweep-stale-orders", step)
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}


def expire_stale_uploads(now: datetime | None = None) -> JobRun:
    """Expire uploads still PENDING after their presigned POST lapsed (the uploads slice owns the rule)."""
    when = now or datetime.now(UTC)

    def step(cursor: str | None, limit: int) -> JobPage:
        page = uploads.expire_stale_uploads(when, limit, cursor)
        return JobPage(seen=page.seen, acted=page.expired, cursor=page.cursor)

    return run_bounded("expire-stale-uploads", step)
{%- endif %}


def daily_report(now: datetime | None = None) -> StatusReport:
    """Count the items of each kind in each status, a bounded slice per run, once a day.

    A run continues today's count from where the previous run stopped; the run that reaches
    the end emits the counts as metrics and one log line; later runs that day do nothing.
    """
    now = now or datetime.now(UTC)
    settings = get_settings()
    repository = jobs_repository()
    state = repository.load(REPORT_JOB)
    today = now.date()
    if state.period != today:
        state = JobState(name=state.name, version=state.version, period=today)  # today's count starts afresh
    elif state.done:
        logger.info("daily report already counted today", extra={"day": today.isoformat(), "at": state.completed_at})
        return StatusReport(day=today, counts=state.tallies, complete=True, counted_at=state.completed_at)
    tallies, cursor = dict(state.tallies), state.cursor
    for _ in range(settings.job_max_pages):
        items, cursor = repository.scan_page(cursor, settings.job_page_size)
        for item in items:
            if item.get("entity") and item.get("status"):
                key = f"{item['entity']}.{item['status']}"
                tallies[key] = tallies.get(key, 0) + 1
        if cursor is None:
            break
    done = cursor is None
    completed_at = now if done else None
    progress = {"cursor": cursor, "tallies": tallies, "done": done, "completed_at": completed_at}
    # Only the run whose save succeeds publishes: a concurrent run's tallies are discarded.
    if repository.save(state.model_copy(update=progress)) and done:
        _publish_report(today.isoformat(), tallies)
    return StatusReport(day=today, counts=tallies, complete=done, counted_at=completed_at)


def _publish_report(day: str, counts: dict[str, int]) -> None:
    for key, count in sorted(counts.items()):
        metrics.add_metric(name=metric_name(key), unit=MetricUnit.Count, value=count)
    metrics.flush_metrics()
    logger.info("daily report", extra={"day": day, "counts": counts})


def metric_name(key: str) -> str:
    """ORDER.PENDING -> order_pending_count."""
    return key.lower().replace(".", "_") + "_count"

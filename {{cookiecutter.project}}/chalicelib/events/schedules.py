"""Scheduled jobs: the 5-minute sweeps and the daily report (Chalice Rate/Cron -> EventBridge)."""

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Cron{% if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' %}, Rate{% endif %}

from chalicelib.services import jobs as service

schedules = Blueprint(__name__)
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' %}


@schedules.schedule(Rate(5, unit=Rate.MINUTES), description="Sweep stale PENDING orders and uploads")
def sweep_stale_items(event: CloudWatchEvent) -> dict[str, Any]:
    """Cancel orders and expire uploads left PENDING too long (a bounded slice per run)."""
    runs = [
{%- if cookiecutter.include_orders == 'y' %}
        service.sweep_stale_orders(),
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
        service.expire_stale_uploads(),
{%- endif %}
    ]
    return {"runs": [run.model_dump(mode="json") for run in runs]}
{%- endif %}


# Every 10 minutes during 00:00-00:59 UTC: the first run counts, the next ones continue a
# count too large for one run, and once today's report is out they return at once.
@schedules.schedule(Cron("0/10", 0, "*", "*", "?", "*"), description="Daily status report")
def daily_report(event: CloudWatchEvent) -> dict[str, Any]:
    """Count items per status; emit the counts as metrics and a log line once complete."""
    return service.daily_report().model_dump(mode="json")

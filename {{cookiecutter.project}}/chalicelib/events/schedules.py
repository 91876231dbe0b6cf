"""Scheduled jobs: the 5-minute sweeps and the daily report (Chalice Rate/Cron -> EventBridge)."""

from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Cron

from chalicelib.services import jobs as service

schedules = Blueprint(__name__)


# Every 10 minutes during 00:00-00:59 UTC: the first run counts, the next ones continue a
# count too large for one run, and once today's report is out they return at once.
@schedules.schedule(Cron("0/10", 0, "*", "*", "?", "*"), description="Daily status report")
def daily_report(event: CloudWatchEvent) -> dict[str, Any]:
    """Count items per status; emit the counts as metrics and a log line once complete."""
    return service.daily_report().model_dump(mode="json")

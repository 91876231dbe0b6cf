"""devstack schedules: EventBridge rate/cron expressions and their next fire times (AWS's cron dialect)."""

from datetime import UTC, datetime

import pytest
from chalice.app import Cron, Rate

from chalice_devstack.schedules import ScheduleExpressionError, parse

# A Thursday.
START = datetime(2026, 1, 1, 9, 30, tzinfo=UTC)


def test_rate_fires_one_period_after_the_previous_time() -> None:
    # Given: Chalice's Rate(5, MINUTES) as its packaged expression
    schedule = parse(Rate(5, unit=Rate.MINUTES).to_string())

    # When / Then
    assert schedule.next_after(START) == datetime(2026, 1, 1, 9, 35, tzinfo=UTC)


def test_rate_of_one_uses_the_singular_unit() -> None:
    # Given / When: Chalice writes rate(1 hour) for Rate(1, HOURS)
    schedule = parse(Rate(1, unit=Rate.HOURS).to_string())

    # Then
    assert schedule.next_after(START) == datetime(2026, 1, 1, 10, 30, tzinfo=UTC)
    with pytest.raises(ScheduleExpressionError):
        parse("rate(1 hours)")


def test_cron_with_question_mark_and_weekday_names() -> None:
    # Given: noon UTC on weekdays
    schedule = parse(Cron(0, 12, "?", "*", "MON-FRI", "*").to_string())

    # When: asked twice in a row, starting on a Thursday morning
    first = schedule.next_after(START)
    second = schedule.next_after(first)

    # Then: Thursday noon, then Friday noon
    assert first == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert second == datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def test_cron_numbers_weekdays_from_sunday_as_one() -> None:
    # Given: AWS's day-of-week 2 is Monday (croniter's would be Tuesday)
    schedule = parse("cron(0 8 ? * 2 *)")

    # When / Then: the first Monday after Thursday 1 Jan 2026
    assert schedule.next_after(START) == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def test_cron_last_friday_and_year_field() -> None:
    # Given: 10:00 on the last Friday of the month, in 2027 only
    schedule = parse("cron(0 10 ? * 6L 2027)")

    # When / Then: January 2026 is skipped for the year, then the last Friday of Jan 2027
    assert schedule.next_after(START) == datetime(2027, 1, 29, 10, 0, tzinfo=UTC)


def test_cron_day_of_month_steps() -> None:
    # Given: every 15 minutes on the 1st of the month
    schedule = parse("cron(0/15 * 1 * ? *)")

    # When / Then
    assert schedule.next_after(START) == datetime(2026, 1, 1, 9, 45, tzinfo=UTC)


def test_cron_past_its_last_year_never_fires() -> None:
    # Given: a schedule limited to a year that is over
    schedule = parse("cron(0 10 * * ? 2020)")

    # When / Then
    with pytest.raises(ScheduleExpressionError, match="never fires"):
        schedule.next_after(START)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 minutes)",
        "rate(5 weeks)",
        "cron(0 10 * * *)",  # five fields: the Unix form, not AWS's
        "cron(0 10 * * MON *)",  # neither day field is '?'
        "cron(0 10 ? * ? *)",  # both are
        "cron(0 10 15W * ? *)",
        "cron(0 99 * * ? *)",
        "cron(0 10 * * ? 20x0)",
        "every day",
    ],
)
def test_bad_expressions_are_rejected_with_the_expression_named(expression: str) -> None:
    # Given / When / Then
    with pytest.raises(ScheduleExpressionError, match="'"):
        parse(expression)

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
        "cron(0 10 15W,20 * ? *)",  # W takes a single day
        "cron(0 10 * * ? 2200)",  # years run 1970-2199
        "rate(1 hours)",
        "rate(2 day)",
        "cron(0 99 * * ? *)",
        "cron(0 10 * * ? 20x0)",
        "every day",
    ],
)
def test_bad_expressions_are_rejected_with_the_expression_named(expression: str) -> None:
    """Given an expression EventBridge refuses, when it is parsed, then the one-line error quotes it."""
    with pytest.raises(ScheduleExpressionError) as raised:
        parse(expression)
    assert repr(expression) in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_error_names_the_function_whose_schedule_is_bad() -> None:
    """Given a bad schedule of a named function, when parsed for it, then the message names function and expression."""
    with pytest.raises(ScheduleExpressionError, match=r"^schedule of function 'nightly': 'cron\(0 10 \* \* \*\)': "):
        parse("cron(0 10 * * *)", function="nightly")


# Every example of AWS's EventBridge cron and rate documentation, and one per wildcard it describes,
# with the first fire time after START (Thursday 1 January 2026, 09:30 UTC).
DOCUMENTED = [
    ("cron(0 10 * * ? *)", datetime(2026, 1, 1, 10, 0)),
    ("cron(15 12 * * ? *)", datetime(2026, 1, 1, 12, 15)),
    ("cron(0 18 ? * MON-FRI *)", datetime(2026, 1, 1, 18, 0)),
    ("cron(0 8 1 * ? *)", datetime(2026, 2, 1, 8, 0)),
    ("cron(0/15 * * * ? *)", datetime(2026, 1, 1, 9, 45)),
    ("cron(0/10 * ? * MON-FRI *)", datetime(2026, 1, 1, 9, 40)),
    ("cron(0/5 8-17 ? * MON-FRI *)", datetime(2026, 1, 1, 9, 35)),
    ("cron(0/30 20-2 ? * MON-FRI *)", datetime(2026, 1, 1, 20, 0)),  # an hour range across midnight
    ("cron(15 10 ? * 6L 2026-2027)", datetime(2026, 1, 30, 10, 15)),  # the last Friday, in a year range
    ("cron(1/10 * * * ? *)", datetime(2026, 1, 1, 9, 31)),  # "/": every tenth minute from minute 1
    ("cron(0 10 1 JAN,FEB,MAR ? *)", datetime(2026, 1, 1, 10, 0)),  # ",": named months
    ("cron(0 10 1-15 * ? *)", datetime(2026, 1, 1, 10, 0)),  # "-": a range of days
    ("cron(0 10 7 * ? *)", datetime(2026, 1, 7, 10, 0)),  # "?": any day of the week
    ("cron(0 10 L * ? *)", datetime(2026, 1, 31, 10, 0)),  # "L" in day-of-month: the last day
    ("cron(0 12 ? * L *)", datetime(2026, 1, 3, 12, 0)),  # "L" in day-of-week: the last day, Saturday
    ("cron(0 10 3W * ? *)", datetime(2026, 1, 2, 10, 0)),  # "W": Saturday the 3rd -> Friday the 2nd
    ("cron(0 10 ? * 3#2 *)", datetime(2026, 1, 13, 10, 0)),  # "#": the second Tuesday
    ("cron(0 1 ? * FRI-MON *)", datetime(2026, 1, 2, 1, 0)),  # a weekday range across the weekend
    ("rate(1 minute)", datetime(2026, 1, 1, 9, 31)),
    ("rate(5 minutes)", datetime(2026, 1, 1, 9, 35)),
    ("rate(1 hour)", datetime(2026, 1, 1, 10, 30)),
    ("rate(12 hours)", datetime(2026, 1, 1, 21, 30)),
    ("rate(1 day)", datetime(2026, 1, 2, 9, 30)),
    ("rate(7 days)", datetime(2026, 1, 8, 9, 30)),
]


@pytest.mark.parametrize(("expression", "first"), DOCUMENTED)
def test_every_documented_expression_parses_and_fires_when_aws_says(expression: str, first: datetime) -> None:
    """Given a documented expression, when parsed, then its first fire time after START is the documented one."""
    assert parse(expression).next_after(START) == first.replace(tzinfo=UTC)


def test_an_hour_range_across_midnight_keeps_to_the_weekdays_of_each_hour() -> None:
    """Given AWS's 20-2 example (Mon-Fri), when Friday night ends, then the next run is Monday 00:00, not Saturday."""
    schedule = parse("cron(0/30 20-2 ? * MON-FRI *)")
    assert schedule.next_after(datetime(2026, 1, 2, 23, 30, tzinfo=UTC)) == datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def test_nearest_weekday_stays_in_its_month() -> None:
    """Given 1W, when the 1st is a Sunday (February 2026), then it fires Monday the 2nd, not Friday in January."""
    schedule = parse("cron(0 10 1W * ? *)")
    assert schedule.next_after(datetime(2026, 1, 2, tzinfo=UTC)) == datetime(2026, 2, 2, 10, 0, tzinfo=UTC)

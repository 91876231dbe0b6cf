"""EventBridge schedule expressions (`rate(...)`, AWS's 6-field `cron(...)`) and their next fire times."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_FIRST_YEAR, _LAST_YEAR = 1970, 2199  # EventBridge's year range
_MAX_YEARS_AHEAD = 200  # a cron whose year field never matches again stops here instead of looping forever


class ScheduleExpressionError(ValueError):
    """A schedule expression EventBridge would reject; the message is one line naming it (and its function)."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression: `next_after(t)` is the first fire time strictly after t."""

    expression: str
    next_after: Callable[[datetime], datetime]


def parse(expression: str, function: str | None = None) -> Schedule:
    """Parse an EventBridge schedule expression (what Chalice's Rate/Cron.to_string() produce).

    With `function`, an error message starts with the function that has the bad schedule.
    """
    try:
        return _parse(expression)
    except ScheduleExpressionError as error:
        if function is None:
            raise
        raise ScheduleExpressionError(f"schedule of function {function!r}: {error}") from None


def _parse(expression: str) -> Schedule:
    text = expression.strip()
    if rate := _RATE.match(text):
        return _rate(expression, int(rate.group(1)), rate.group(2))
    if cron := _CRON.match(text):
        return Schedule(expression, _cron_next(expression, cron.group(1).split()))
    raise ScheduleExpressionError(f"{expression!r}: expected rate(N unit) or cron(min hour dom month dow year)")


def _rate(expression: str, value: int, unit: str) -> Schedule:
    """rate(1 minute), rate(5 minutes)...: singular unit for 1, plural above, as EventBridge requires."""
    singular = unit.rstrip("s")
    if value < 1 or (value == 1) != (unit == singular):
        raise ScheduleExpressionError(f"{expression!r}: use '1 {singular}' or 'N {singular}s' (N > 1)")
    period = timedelta(seconds=value * _UNIT_SECONDS[singular])
    return Schedule(expression, lambda after: after + period)


def _cron_next(expression: str, fields: list[str]) -> Callable[[datetime], datetime]:
    """Build next_after for AWS cron: 6 fields, `?` for dom/dow, dow 1-7 = SUN-SAT, a year field."""
    if len(fields) != 6:
        raise ScheduleExpressionError(f"{expression!r}: AWS cron has 6 fields (min hour dom month dow year)")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
    spec = " ".join([minute, hour, "*" if dom == "?" else dom, month, "*" if dow == "?" else _dow_to_croniter(dow)])
    if not croniter.is_valid(spec):
        raise ScheduleExpressionError(f"{expression!r}: not a valid cron expression")
    years = _year_matcher(expression, year)

    def next_after(after: datetime) -> datetime:
        """First matching minute after `after` whose year the year field allows."""
        iterator = croniter(spec, after.astimezone(UTC))
        for _ in range(_MAX_YEARS_AHEAD):
            candidate: datetime = iterator.get_next(datetime)
            if years(candidate.year):
                return candidate
            iterator = croniter(spec, datetime(candidate.year + 1, 1, 1, tzinfo=UTC) - timedelta(seconds=1))
        raise ScheduleExpressionError(f"{expression!r}: never fires again")

    return next_after


def _dow_to_croniter(dow: str) -> str:
    """AWS numbers days 1-7 from Sunday, croniter 0-6. AWS's `6L` (last Friday) is croniter's `L5`; a bare
    `L` is the last day of the week, Saturday."""
    if dow.upper() == "L":
        return "6"
    shifted = re.sub(r"(?<![/#\d])\d+", lambda number: str(int(number.group()) - 1), dow)
    return re.sub(r"^(\d)L$", r"L\1", shifted, flags=re.IGNORECASE)


def _year_matcher(expression: str, field: str) -> Callable[[int], bool]:
    """A predicate for the year field (1970-2199): `*`, N, A-B, A/S, A-B/S and comma lists of those."""
    allowed = [_year_range(expression, field, part) for part in field.split(",")]
    return lambda year: any(a <= year <= b and (year - a) % s == 0 for a, b, s in allowed)


def _year_range(expression: str, field: str, part: str) -> tuple[int, int, int]:
    """One part of the year field as (first, last, step)."""
    match = re.fullmatch(r"(\*|\d{4})(?:-(\d{4}))?(?:/(\d+))?", part)
    bounds = [int(year) for year in (match.groups()[:2] if match else ()) if year and year != "*"]
    if not match or not all(_FIRST_YEAR <= year <= _LAST_YEAR for year in bounds):
        raise ScheduleExpressionError(f"{expression!r}: bad year field {field!r} (years {_FIRST_YEAR}-{_LAST_YEAR})")
    first, last, step = match.groups()
    start = _FIRST_YEAR if first == "*" else int(first)
    single = first != "*" and not last and not step
    return start, start if single else int(last or _LAST_YEAR), int(step or 1)

"""EventBridge schedule expressions (`rate(...)`, AWS's 6-field `cron(...)`) and their next fire times."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MAX_YEARS_AHEAD = 200  # a cron whose year field never matches again stops here instead of looping forever


class ScheduleExpressionError(ValueError):
    """A schedule expression EventBridge would reject; the message names it."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression: `next_after(t)` is the first fire time strictly after t."""

    expression: str
    next_after: Callable[[datetime], datetime]


def parse(expression: str) -> Schedule:
    """Parse an EventBridge schedule expression (what Chalice's Rate/Cron.to_string() produce)."""
    text = expression.strip()
    if rate := _RATE.match(text):
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ScheduleExpressionError(f"{expression!r}: use '1 {unit.rstrip('s')}' or 'N {unit.rstrip('s')}s'")
        period = timedelta(seconds=value * _UNIT_SECONDS[unit.rstrip("s")])
        return Schedule(expression, lambda after: after + period)
    if cron := _CRON.match(text):
        return Schedule(expression, _cron_next(expression, cron.group(1).split()))
    raise ScheduleExpressionError(f"{expression!r}: expected rate(N unit) or cron(min hour dom month dow year)")


def _cron_next(expression: str, fields: list[str]) -> Callable[[datetime], datetime]:
    """Build next_after for AWS cron: 6 fields, `?` for dom/dow, dow 1-7 = SUN-SAT, a year field."""
    if len(fields) != 6:
        raise ScheduleExpressionError(f"{expression!r}: AWS cron has 6 fields (min hour dom month dow year)")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ScheduleExpressionError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
    if "W" in dom.upper():
        raise ScheduleExpressionError(f"{expression!r}: the 'W' (nearest weekday) form is not supported offline")
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
    """AWS numbers days 1-7 from Sunday; croniter 0-6 from Sunday. `6L` (last Friday) is croniter's `L5`."""
    shifted = re.sub(r"(?<![/#\d])\d+", lambda number: str(int(number.group()) - 1), dow)
    return re.sub(r"^(\d)L$", r"L\1", shifted)


def _year_matcher(expression: str, field: str) -> Callable[[int], bool]:
    """A predicate for the year field: `*`, N, A-B, A/S, A-B/S and comma lists of those."""
    allowed: list[tuple[int, int, int]] = []  # (first, last, step)
    for part in field.split(","):
        match = re.fullmatch(r"(\*|\d{4})(?:-(\d{4}))?(?:/(\d+))?", part)
        if not match:
            raise ScheduleExpressionError(f"{expression!r}: bad year field {field!r}")
        single = match.group(1) != "*" and not match.group(2) and not match.group(3)
        start = 0 if match.group(1) == "*" else int(match.group(1))
        end = start if single else int(match.group(2) or 9999)
        step = int(match.group(3) or 1)
        allowed.append((start, end, step))
    return lambda year: any(a <= year <= b and (year - a) % s == 0 for a, b, s in allowed)

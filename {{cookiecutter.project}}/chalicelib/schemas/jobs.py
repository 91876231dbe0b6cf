"""What scheduled jobs read and report: resume state, one page of work, a run's summary."""

from datetime import date, datetime

from pydantic import BaseModel, Field


class JobState(BaseModel):
    """Where a job resumes: its cursor, and a version that makes concurrent runs safe."""

    name: str
    version: int = 0
    cursor: str | None = None
    period: date | None = None
    tallies: dict[str, int] = Field(default_factory=dict)
    done: bool = False
    completed_at: datetime | None = None


class Candidate(BaseModel):
    """An item a sweep may act on."""

    id: str
    created_at: datetime


class CandidatePage(BaseModel):
    """One page of a bounded scan: its items and where the next page starts (None at the end)."""

    items: list[Candidate]
    cursor: str | None = None


class JobPage(BaseModel):
    """What one page of a job did: items looked at, items acted on, where to resume."""

    seen: int = 0
    acted: int = 0
    cursor: str | None = None


class JobRun(BaseModel):
    """A job run's summary (returned by the schedule handlers, and logged)."""

    job: str
    pages: int = 0
    seen: int = 0
    acted: int = 0
    cursor: str | None = None
    saved: bool = True
    skipped: bool = False


class StatusReport(BaseModel):
    """The daily report: how many items of each kind are in each status, as counted by `counted_at`.

    Today's count is made once: a run after it completed returns it as it was then (counted_at says
    when), not a recount, so items written since are in tomorrow's report.
    """

    day: date
    counts: dict[str, int]
    complete: bool
    counted_at: datetime | None = None

"""The daily report and the bounded job runner, with a fixed clock, on moto."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.config import Settings, get_settings
from chalicelib.db.jobs import jobs_repository
from chalicelib.db.users import users_repository
from chalicelib.schemas.jobs import JobPage, JobState
from chalicelib.schemas.users import UserCreate
from chalicelib.services import jobs
from tests.conftest import TEST_REGION

NOW = datetime(2024, 5, 1, 0, 5, tzinfo=UTC)


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given: jobs that read one item per page and one page per run."""
    monkeypatch.setattr(jobs, "get_settings", lambda: Settings(job_page_size=1, job_max_pages=1))


def add_users(count: int) -> None:
    for i in range(count):
        users_repository().create(UserCreate(name=f"user {i}", email=f"user{i}@example.com"))


def put_items(statuses: list[str]) -> None:
    table = boto3.resource("dynamodb", region_name=TEST_REGION).Table(get_settings().service_table)
    for i, status in enumerate(statuses):
        table.put_item(Item={"pk": f"THING#{i}", "sk": "THING", "entity": "THING", "status": status})


def test_the_report_counts_items_per_status_and_emits_metrics(
    aws: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given items in two statuses, and users (which have no status)
    put_items(["OPEN", "OPEN", "DONE"])
    add_users(2)
    # When the report runs
    report = jobs.daily_report(NOW)
    # Then it is complete, counts by kind and status, and the metrics and log line went out
    assert report.complete and report.day == NOW.date()
    assert report.counts == {"THING.OPEN": 2, "THING.DONE": 1}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    emitted = next(line for line in lines if "_aws" in line)
    assert (emitted["thing_open_count"], emitted["thing_done_count"]) == ([2.0], [1.0])
    assert caplog.messages.count("daily report") == 1


def test_a_large_count_is_spread_over_runs_and_published_once(
    aws: None, small_pages: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given three counted items and runs that may read one item each
    put_items(["OPEN", "OPEN", "DONE"])
    # When the report runs repeatedly the same day
    reports = [jobs.daily_report(NOW + timedelta(minutes=10 * i)) for i in range(5)]
    # Then the first runs leave it incomplete, a later one completes it, and it stays done
    assert not reports[0].complete and not reports[1].complete and reports[-1].complete
    assert reports[-1].counts == {"THING.OPEN": 2, "THING.DONE": 1}
    assert capsys.readouterr().out.count('"_aws"') == 1


def test_a_run_after_the_count_completed_says_when_it_was_counted(aws: None) -> None:
    # Given today's report, counted on an empty table
    first = jobs.daily_report(NOW)
    # When items arrive and the report runs again the same day
    put_items(["OPEN"])
    later = jobs.daily_report(NOW + timedelta(hours=3))
    # Then it returns the day's count as it was, saying when it was made (no recount, nothing published twice)
    assert first.counted_at == later.counted_at == NOW
    assert later.counts == {} and later.complete


def test_a_new_day_starts_a_new_count(aws: None) -> None:
    put_items(["OPEN"])
    assert jobs.daily_report(NOW).counts == {"THING.OPEN": 1}
    put_items(["OPEN", "DONE"])  # overwrites THING#0 (OPEN) and adds THING#1 (DONE)
    tomorrow = jobs.daily_report(NOW + timedelta(days=1))
    assert tomorrow.day == (NOW + timedelta(days=1)).date()
    assert tomorrow.counts == {"THING.OPEN": 1, "THING.DONE": 1}


def test_a_run_resumes_where_the_previous_one_stopped(aws: None, small_pages: None) -> None:
    # Given a job that records the cursors it is given
    seen: list[str | None] = []

    def step(cursor: str | None, limit: int) -> JobPage:
        seen.append(cursor)
        return JobPage(seen=1, acted=0, cursor=None if cursor == "c2" else ("c1" if cursor is None else "c2"))

    # When it runs three times (one page each)
    runs = [jobs.run_bounded("test-job", step) for _ in range(3)]
    # Then each run starts where the last stopped, and after the end it starts over
    assert seen == [None, "c1", "c2"]
    assert [run.cursor for run in runs] == ["c1", "c2", None]


def test_a_concurrent_run_cannot_move_the_cursor_back(aws: None) -> None:
    # Given two runs that loaded the same state
    repository = jobs_repository()
    first, second = repository.load("race"), repository.load("race")
    # When both save
    won = repository.save(first.model_copy(update={"cursor": "ahead"}))
    lost = repository.save(second.model_copy(update={"cursor": "behind"}))
    # Then only the first is kept
    assert (won, lost) == (True, False)
    assert repository.load("race").cursor == "ahead"


def test_job_state_round_trips(aws: None) -> None:
    state = JobState(name="x", cursor="c", period=NOW.date(), tallies={"A.B": 3}, done=True)
    assert jobs_repository().save(state)
    loaded: Any = jobs_repository().load("x")
    assert loaded.model_dump(exclude={"version"}) == state.model_dump(exclude={"version"})
    assert loaded.version == 1

"""The operations metrics of the daily run: each daily job step's runs and duration.

Counters live for the whole test process, so each test compares values before and after. Frozen at
2026-03-01 12:00 UTC (the ``today`` fixture).
"""

from __future__ import annotations

from datetime import date

import pytest
from prometheus_client import REGISTRY

from dailyrun import jobs
from dailyrun.jobs import DAILY_STEPS, daily_jobs_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

DAY = date(2026, 3, 1)
STEPS = [name for name, _ in DAILY_STEPS]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def job_values() -> dict[str, tuple[float, float, float]]:
    return {
        step: (
            value("taqsit_job_runs_total", job=step, outcome="success"),
            value("taqsit_job_runs_total", job=step, outcome="failure"),
            value("taqsit_job_duration_seconds_count", job=step),
        )
        for step in STEPS
    }


def test_each_daily_step_run_is_counted_and_timed(merchant):
    before = job_values()

    daily_jobs_run(merchant=merchant, day=DAY)
    daily_jobs_run(merchant=merchant, day=DAY)

    after = job_values()
    assert {
        step: tuple(a - b for a, b in zip(after[step], before[step], strict=True)) for step in STEPS
    } == dict.fromkeys(STEPS, (2.0, 0.0, 2.0))


def test_a_failing_step_is_counted_as_a_failure(merchant, monkeypatch):
    def broken(merchant, day, now):
        raise RuntimeError("the step broke")

    monkeypatch.setattr(jobs, "DAILY_STEPS", (*DAILY_STEPS[:1], ("broken_step", broken), *DAILY_STEPS[1:]))
    first = STEPS[0]
    before = (
        value("taqsit_job_runs_total", job=first, outcome="success"),
        value("taqsit_job_runs_total", job="broken_step", outcome="failure"),
    )

    with pytest.raises(RuntimeError, match="the step broke"):
        daily_jobs_run(merchant=merchant, day=DAY)

    assert value("taqsit_job_runs_total", job=first, outcome="success") - before[0] == 1
    assert value("taqsit_job_runs_total", job="broken_step", outcome="failure") - before[1] == 1
    assert value("taqsit_job_duration_seconds_count", job="broken_step") >= 1

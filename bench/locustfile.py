"""Locust users for the payments benchmark (bench/payments.py runs ``locust --headless`` with this file).

Each user, in a closed loop with no think time (or, with ``BENCH_RATE_PER_USER``, waiting a random time drawn
from an exponential distribution of mean 1 / that rate between requests, so that the 16 users act independently,
as clerks at different counters do, instead of firing together), takes the next target from ``BENCH_TARGETS``
(a JSON list made by bench/payments.py: a plan, the amount of its oldest unpaid installment, the clerk's JWT) and
posts one payment to it with a fresh ``Idempotency-Key``: every request pays a different plan. Every response
time is kept (locust rounds its own percentiles) and written to ``BENCH_LATENCIES`` when the run ends.
"""

from __future__ import annotations

import json
import os
import random
import uuid

from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser

TARGETS = json.loads(open(os.environ["BENCH_TARGETS"]).read())  # noqa: SIM115 - read once at start
RATE_PER_USER = float(os.environ.get("BENCH_RATE_PER_USER") or 0)
SAMPLES: list[tuple[float, float, int]] = []  # (start time, response time in ms, status code)


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **kwargs):
    status = getattr(response, "status_code", 0) if exception is None else 0
    SAMPLES.append((kwargs.get("start_time") or 0.0, response_time, status))


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(os.environ["BENCH_LATENCIES"], "w") as out:
        json.dump(SAMPLES, out)


class Clerk(FastHttpUser):
    if RATE_PER_USER:

        def wait_time(self) -> float:
            return random.expovariate(RATE_PER_USER)

    else:
        wait_time = constant(0)

    @task
    def pay(self) -> None:
        if not TARGETS:
            raise StopUser
        target = TARGETS.pop()
        with self.client.post(
            "/api/installments/payments/",
            json={"plan": target["plan"], "amount": target["amount"], "payment_method": "cash"},
            headers={
                "Authorization": f"Bearer {target['token']}",
                "Idempotency-Key": str(uuid.uuid4()),
            },
            name="POST /api/installments/payments/",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")

"""200 payments posted at once over HTTP to 10 plans, through gunicorn on a throwaway PostgreSQL.

16 client threads send, in a shuffled order, 150 payments (most with an Idempotency-Key) and 50 repeats of
keyed ones with the same body, for more than the plans owe, so some are refused. Afterwards every ledger
invariant holds in the database, every answer agrees with what was recorded, and each key recorded at most one
payment, its repeats replaying the first answer.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.resilience.ledger import ledger_violations
from tests.resilience.servers import DATABASE, Http, app_env, seed

pytestmark = pytest.mark.resilience

PLANS = 10
ORIGINALS = 150
REPEATS = 50
CLIENTS = 16
OWED = Decimal("800.00")  # each plan: 1000.00, 200.00 down


def _requests(plan_ids: list[str]) -> list[dict]:
    """The 200 requests: 15 originals per plan (130 keyed, 20 without a key), each 45.00 to 80.00 (about 930.00
    for 800.00 owed), then 50 repeats of keyed originals; shuffled so repeats race their originals."""
    rng = random.Random(2026)
    originals = []
    for index in range(ORIGINALS):
        amount = Decimal(rng.randrange(4500, 8001, 25)) / 100
        originals.append(
            {
                "plan": plan_ids[index % PLANS],
                "amount": f"{amount:.2f}",
                "key": f"till-{index:03d}" if index % 15 < 13 else None,
                "reference": f"R{index:03d}",
            }
        )
    keyed = [request for request in originals if request["key"]]
    repeats = [dict(rng.choice(keyed)) for _ in range(REPEATS)]
    requests = originals + repeats
    rng.shuffle(requests)
    return requests


def test_200_concurrent_payments_with_repeated_keys_keep_the_ledger_exact(postgres, processes, workdir):
    env = app_env(postgres, workdir)
    plans = {"count": PLANS, "start_days_ago": 45, "total": "1000.00", "down": "200.00", "installments": 4}
    data = seed(env, {"merchants": [{"name": "Counter Storm", "clerks": 4, "plans": [plans]}]})
    merchant = data["merchants"][0]
    plan_ids = [plan["id"] for plan in merchant["plans"]]
    assert {Decimal(plan["remaining"]) for plan in merchant["plans"]} == {OWED}
    base = processes.gunicorn(env, workers=4, threads=4)
    tokens = []
    for clerk in merchant["clerks"]:
        client = Http(base)
        client.jwt_login(clerk, data["password"])
        tokens.append(client.token)
    requests = _requests(plan_ids)
    assert len(requests) == ORIGINALS + REPEATS == 200
    barrier = threading.Barrier(CLIENTS)
    answers: list = [None] * len(requests)

    def client_run(index: int) -> None:
        client = Http(base, timeout=60)
        client.token = tokens[index % len(tokens)]
        barrier.wait(timeout=30)
        for position in range(index, len(requests), CLIENTS):
            request = requests[position]
            headers = {"Idempotency-Key": request["key"]} if request["key"] else {}
            body = {key: request[key] for key in ("plan", "amount", "reference")}
            answers[position] = client.post("/api/installments/payments/", json_body=body, headers=headers)

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client_run, range(CLIENTS)))

    logs = processes.logs()
    assert all(answer is not None for answer in answers)
    statuses = defaultdict(int)
    for answer in answers:
        statuses[answer.status] += 1
    # Only recorded or refused for the balance: no 5xx, no conflict, no lost request.
    assert set(statuses) <= {201, 400}, (dict(statuses), [a for a in answers if a.status not in (201, 400)], logs)
    assert statuses[400] > 0, "the amounts were chosen to overdraw some plans"
    for answer in answers:
        if answer.status == 400:
            assert list(answer.json) == ["amount"], answer
            assert "exceeds the remaining balance" in answer.json["amount"][0], answer

    # Each key: every answer the same (all refused, or all the one payment), the first not replayed.
    by_key = defaultdict(list)
    for request, answer in zip(requests, answers, strict=True):
        if request["key"]:
            by_key[request["key"]].append(answer)
    repeated = 0
    for key, key_answers in by_key.items():
        repeated += len(key_answers) > 1
        codes = {answer.status for answer in key_answers}
        assert len(codes) == 1, (key, key_answers)
        if codes == {201}:
            assert len({answer.json["id"] for answer in key_answers}) == 1, (key, key_answers)
            assert all(answer.json == key_answers[0].json for answer in key_answers), key
            replayed = sorted(answer.headers["Idempotent-Replayed"] for answer in key_answers)
            assert replayed == ["false"] + ["true"] * (len(key_answers) - 1), (key, replayed)
    assert repeated > 20

    # What the answers say was recorded is exactly what the database holds.
    recorded = {answer.json["id"]: answer.json for answer in answers if answer.status == 201}
    with postgres.connect(DATABASE) as conn:
        assert ledger_violations(conn) == {}
        rows = conn.execute(
            "SELECT id::text, plan_id::text, amount, idempotency_key, payment_number FROM payments_payment"
            " WHERE NOT is_down_payment"
        ).fetchall()
        plans = dict(conn.execute("SELECT id::text, amount_paid FROM installments_installmentplan").fetchall())
        keys = conn.execute("SELECT key, status_code FROM taqsit_idempotencyrecord").fetchall()
    assert {row[0] for row in rows} == set(recorded)
    for payment_id, plan_id, amount, key, number in rows:
        answer = recorded[payment_id]
        assert (answer["plan"], Decimal(answer["amount"]), answer["payment_number"]) == (plan_id, amount, number)
        if key:
            assert by_key[key][0].json["id"] == payment_id
    # Only the recorded keys are kept (a refused request leaves no record, so it can be retried).
    assert sorted(keys) == sorted((key, 201) for key, answers_ in by_key.items() if answers_[0].status == 201)
    paid = defaultdict(Decimal)
    for _payment_id, plan_id, amount, _key, _number in rows:
        paid[plan_id] += amount
    for plan_id in plan_ids:
        assert plans[plan_id] == Decimal("200.00") + paid[plan_id]
        assert paid[plan_id] <= OWED
    # A payment is refused only when it would overdraw: the balance only falls, so it is more than what is left.
    for request, answer in zip(requests, answers, strict=True):
        if answer.status == 400:
            assert Decimal(request["amount"]) > OWED - paid[request["plan"]], (request, answer)

"""Webhooks end to end against a local receiver: what is written in the payment's transaction, signed, sent in
order, retried, given up, sent again, and refused."""

from __future__ import annotations

import re
import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from installments.tests.factories import plan_make
from payments.services import payment_post
from taqsit.tenancy import merchant_scope
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services import deliveries_deliver, delivery_redeliver, endpoint_create
from webhooks.signing import verify

pytestmark = pytest.mark.django_db


def deliver(merchant) -> int:
    with merchant_scope(merchant.pk):
        return deliveries_deliver(merchant_id=merchant.pk)


def pay(owner, plan, amount: str, on: date = date(2026, 3, 1)):
    return payment_post(actor=owner, plan=plan, amount=Decimal(amount), payment_date=on)


def test_a_delivery_is_signed_with_the_endpoint_secret_and_carries_the_payment_as_the_api_shows_it(
    owner, customer, endpoint, receiver, merchant, today
):
    plan = plan_make(actor=owner, customer=customer)
    payment = pay(owner, plan, "250.00")

    assert deliver(merchant) == 3  # plan.created, the down payment's payment.posted, this payment's

    _created, _down_payment, posted = receiver.received
    body = posted["body"]
    header = posted["headers"]["Taqsit-Signature"]
    assert verify(secret=endpoint.secret, body=body, header=header) is True
    assert verify(secret="whsec_another", body=body, header=header) is False
    assert verify(secret=endpoint.secret, body=body + b" ", header=header) is False
    event = WebhookEvent.objects.get(type="payment.posted", object_id=payment.pk)
    assert posted["headers"]["Taqsit-Event-Id"] == str(event.pk)
    assert posted["headers"]["Taqsit-Event-Type"] == "payment.posted"
    assert posted["path"] == "/hooks/taqsit"
    data = receiver.delivered()[2]
    assert data["id"] == str(event.pk)
    assert (data["type"], data["merchant"], data["created"]) == (
        "payment.posted",
        str(merchant.pk),
        "2026-03-01T12:00:00+00:00",
    )
    obj = data["data"]["object"]
    assert (obj["id"], obj["payment_number"], obj["amount"], obj["status"]) == (
        str(payment.pk),
        2,
        "250.00",
        "completed",
    )
    assert [(line["installment_number"], line["kind"], line["amount"]) for line in obj["allocations"]] == [
        (1, "principal", "200.00"),
        (2, "principal", "50.00"),
    ]
    assert receiver.delivered()[0]["data"]["object"]["reference"] == plan.reference
    assert WebhookDelivery.objects.filter(status="delivered").count() == 3
    attempt = WebhookAttempt.objects.get(delivery__event=event)
    assert (attempt.status_code, attempt.succeeded, attempt.error, attempt.response_excerpt) == (
        200,
        True,
        "",
        '{"ok": true}',
    )


def test_a_signature_older_than_the_tolerance_is_refused(endpoint):
    header = "t=1000,v1=" + "0" * 64
    assert verify(secret=endpoint.secret, body=b"{}", header=header, now=1000) is False
    from webhooks.signing import signature_header

    signed = signature_header(secret=endpoint.secret, body=b"{}", timestamp=1000)
    assert verify(secret=endpoint.secret, body=b"{}", header=signed, now=1000 + 300) is True
    assert verify(secret=endpoint.secret, body=b"{}", header=signed, now=1000 + 301) is False


def test_a_rolled_back_payment_writes_and_sends_nothing(owner, customer, endpoint, receiver, merchant, today):
    plan = plan_make(actor=owner, customer=customer)
    before = WebhookEvent.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        pay(owner, plan, "250.00")
        assert WebhookEvent.objects.count() == before + 1  # written in the payment's own transaction
        raise RuntimeError("the till crashed")

    assert WebhookEvent.objects.count() == before
    deliver(merchant)
    assert [item["type"] for item in receiver.delivered()] == ["plan.created", "payment.posted"]
    assert receiver.delivered()[1]["data"]["object"]["is_down_payment"] is True


def test_the_outbox_is_written_at_commit_and_the_worker_is_kicked_after(
    owner, customer, endpoint, merchant, today, django_capture_on_commit_callbacks, monkeypatch
):
    kicked = []
    monkeypatch.setattr("webhooks.tasks.webhooks_deliver_task.delay", lambda merchant_id: kicked.append(merchant_id))

    with django_capture_on_commit_callbacks(execute=True):
        plan = plan_make(actor=owner, customer=customer)
        pay(owner, plan, "800.00")  # pays the plan off: payment.posted, then plan.completed

    assert kicked == [str(merchant.pk)]  # once for the transaction
    assert list(WebhookDelivery.objects.order_by("sequence").values_list("event__type", flat=True)) == [
        "plan.created",
        "payment.posted",
        "payment.posted",
        "plan.completed",
    ]


def test_a_receiver_down_for_a_while_gets_every_event_once_and_in_order(owner, customer, endpoint, receiver, merchant):
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        plan = plan_make(actor=owner, customer=customer)
        deliver(merchant)  # plan.created and the down payment, received
        receiver.stop()  # connections refused
        for amount in ("100.00", "150.00", "200.00"):
            pay(owner, plan, amount)

        deliver(merchant)
        # Only the first is tried: the others wait behind it (same plan, same endpoint).
        assert list(WebhookDelivery.objects.order_by("sequence").values_list("status", "attempts")) == [
            ("delivered", 1),
            ("delivered", 1),
            ("pending", 1),
            ("pending", 0),
            ("pending", 0),
        ]
        failed = WebhookAttempt.objects.get(succeeded=False)
        assert failed.status_code is None
        assert "ConnectError" in failed.error

        receiver.start()
        receiver.status = 500
        for _ in range(5):  # an hour of retries answered 500
            clock.shift(timedelta(minutes=15))
            deliver(merchant)
        assert WebhookDelivery.objects.filter(status="pending").count() == 3
        assert {item["status"] for item in receiver.received[2:]} == {500}

        receiver.status = 200
        clock.shift(timedelta(hours=2))
        assert deliver(merchant) == 3
        clock.shift(timedelta(hours=2))
        assert deliver(merchant) == 0

    amounts = [event["data"]["object"]["amount"] for event in receiver.delivered()[1:]]
    assert amounts == ["200.00", "100.00", "150.00", "200.00"]
    assert len({event["id"] for event in receiver.delivered()}) == len(receiver.delivered()) == 5
    assert WebhookDelivery.objects.filter(status="delivered").count() == 5
    assert WebhookEndpoint.objects.get().consecutive_failures == 0


def test_a_delivery_failing_for_a_day_is_given_up(owner, customer, plan_endpoint, receiver, merchant):
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    receiver.status = 500
    with time_machine.travel(start, tick=False) as clock:
        plan_make(actor=owner, customer=customer)
        deliver(merchant)
        clock.shift(timedelta(hours=23))
        deliver(merchant)
        assert WebhookDelivery.objects.get().status == "pending"
        clock.shift(timedelta(hours=1, seconds=1))
        deliver(merchant)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 3, 500)


def test_an_endpoint_failing_for_a_day_is_disabled_and_its_owner_told(
    owner, customer, plan_endpoint, receiver, merchant, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    owner.email = "owner@shop.example"
    owner.save(update_fields=["email"])
    receiver.status = 500
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        plan_make(actor=owner, customer=customer)
        for _ in range(3):
            deliver(merchant)
            clock.shift(timedelta(hours=9))
        # Three failures, but not yet a day of them: still on.
        assert WebhookEndpoint.objects.get().is_active is True
        deliveries_before = len(receiver.received)
        with django_capture_on_commit_callbacks(execute=True):
            deliver(merchant)

    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.is_active, endpoint.consecutive_failures) == (False, 4)
    assert endpoint.disabled_reason == "4 failed attempts in a row since 2026-03-01 12:00 UTC."
    assert len(receiver.received) == deliveries_before + 1
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["owner@shop.example"], f"Webhook endpoint disabled: {endpoint.url}")
    ]
    assert "4 attempts in a row" in mail.outbox[0].body
    # Disabled: nothing more is sent to it.
    with time_machine.travel(start + timedelta(days=2), tick=False):
        assert deliver(merchant) == 0


def test_send_again_delivers_a_given_up_delivery(owner, customer, plan_endpoint, receiver, merchant):
    receiver.status = 500
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False) as clock:
        plan_make(actor=owner, customer=customer)
        deliver(merchant)
        clock.shift(timedelta(days=1, seconds=1))
        deliver(merchant)
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "failed"

        receiver.status = 200
        delivery_redeliver(actor=owner, delivery=delivery)
        assert deliver(merchant) == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert [item["status"] for item in receiver.received] == [500, 500, 200]


@pytest.mark.parametrize(
    ("resolved", "reason"),
    [
        ("127.0.0.1", "127.0.0.1, which is not a public address"),
        ("10.0.0.7", "10.0.0.7, which is not a public address"),
        ("169.254.169.254", "169.254.169.254, which is not a public address"),
        ("::1", "::1, which is not a public address"),
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(
    owner, customer, merchant, receiver, settings, monkeypatch, today, resolved, reason
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    endpoint = endpoint_create(actor=owner, url="https://hooks.example.com/taqsit", events=["plan.created"])
    family = socket.AF_INET6 if ":" in resolved else socket.AF_INET
    monkeypatch.setattr(
        socket, "getaddrinfo", lambda host, port, **kwargs: [(family, socket.SOCK_STREAM, 6, "", (resolved, port))]
    )
    plan_make(actor=owner, customer=customer)

    deliver(merchant)

    attempt = WebhookAttempt.objects.get(delivery__endpoint=endpoint)
    assert (attempt.status_code, attempt.error) == (None, f"hooks.example.com resolves to {reason}.")
    assert receiver.received == []


def test_a_name_with_one_private_address_among_public_ones_is_refused(owner, settings, monkeypatch):
    from webhooks.targets import TargetRefusedError, target_resolve

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kwargs: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.5", port)),
        ],
    )
    with pytest.raises(TargetRefusedError, match=r"192\.168\.1\.5"):
        target_resolve("https://hooks.example.com/x")
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, **kwargs: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))],
    )
    target = target_resolve("https://hooks.example.com:8443/x?a=1")
    assert (target.address, target.host, target.port, target.path) == (
        "93.184.215.14",
        "hooks.example.com",
        8443,
        "/x?a=1",
    )


@pytest.mark.django_db(transaction=True)  # each payment its own transaction, as at the counter
def test_the_payment_path_adds_one_query_with_or_without_an_endpoint(owner, customer, merchant, receiver, today):
    plan = plan_make(actor=owner, customer=customer)
    pay(owner, plan, "10.00")

    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            pay(owner, plan, "10.00")
        return [query["sql"] for query in captured.captured_queries]

    def of_webhooks(queries: list[str]) -> list[str]:
        """ "VERB table" of the statements on the webhooks' tables (after pghistory's context prefix)."""
        shapes = []
        for sql in queries:
            sql = re.sub(r"^SELECT set_config\('pghistory\.context_id'.*?true\);\s*", "", sql, flags=re.DOTALL)
            table = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
            if table and table.group(1).startswith("webhooks_"):
                shapes.append(f"{sql.split()[0]} {table.group(1)}")
        return shapes

    without = statements()
    endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    not_wanted = statements()
    endpoint_create(actor=owner, url=receiver.url, events=["payment.posted"])
    wanted = statements()

    assert of_webhooks(without) == of_webhooks(not_wanted) == ["SELECT webhooks_webhookendpoint"]
    assert len(not_wanted) == len(without)
    # Wanted: the merchant and the payment as the API shows it (its allocations prefetched), then the event and
    # its delivery, in one INSERT each.
    assert of_webhooks(wanted) == [
        "SELECT webhooks_webhookendpoint",
        "INSERT webhooks_webhookevent",
        "INSERT webhooks_webhookdelivery",
    ]
    assert len(wanted) == len(without) + 5


def test_beats_sweep_delivers_every_merchants_due_deliveries_each_for_its_merchant(
    owner, customer, other_owner, receiver, merchant, other_merchant, today, request
):
    from customers.tests.factories import CustomerFactory
    from taqsit.celery import app as celery_app
    from webhooks.tasks import webhooks_deliver_task, webhooks_sweep_task

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # the sweep's tasks run here
    request.addfinalizer(lambda: setattr(celery_app.conf, "task_always_eager", eager))

    endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    endpoint_create(actor=other_owner, url=receiver.url, events=["plan.created"])
    plan_make(actor=owner, customer=customer)
    plan_make(actor=other_owner, customer=CustomerFactory(merchant=other_merchant))

    assert webhooks_deliver_task(str(merchant.pk)) == 1  # the kick: one merchant's only
    assert webhooks_sweep_task() == 1  # the other's
    assert webhooks_sweep_task() == 0

    assert sorted(event["merchant"] for event in receiver.delivered()) == sorted(
        [str(merchant.pk), str(other_merchant.pk)]
    )


def test_the_delivery_connects_to_the_address_checked_and_keeps_the_name_in_host(
    owner, customer, merchant, receiver, monkeypatch, settings, today
):
    """The name is resolved once, checked, and the connection goes to that address: a second answer of the DNS
    (a rebinding to another address) is never asked for, and the receiver still sees the URL's host."""
    settings.DEBUG = True  # plain http to a name: development only (the receiver speaks no TLS)
    endpoint = endpoint_create(
        actor=owner, url=f"http://hooks.example.test:{receiver.port}/in?shop=1", events=["plan.created"]
    )
    answers = iter(["127.0.0.1", "10.9.9.9"])
    asked = []

    def resolve(host, port, *args, **kwargs):
        if host == "127.0.0.1":  # the connection itself, to the address checked: no name to look up
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, port))]
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    plan_make(actor=owner, customer=customer)

    assert deliver(merchant) == 1

    assert asked == ["hooks.example.test"]
    (received,) = receiver.received
    assert (received["path"], received["headers"]["Host"]) == ("/in?shop=1", f"hooks.example.test:{receiver.port}")
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == "delivered"


def test_a_redirect_is_not_followed_it_is_a_failure(owner, customer, merchant, receiver, today):
    endpoint_create(actor=owner, url=receiver.url, events=["plan.created"])
    receiver.status = 302
    plan_make(actor=owner, customer=customer)

    deliver(merchant)

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 302)
    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.get().error == "HTTP 302"

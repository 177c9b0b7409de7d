"""The OpenAPI schema makes a working client: ``openapi-python-client`` generates one from ``/api/schema/`` without
a warning, every module of it imports, and it signs in, records a customer and a plan (JSON bodies, the
Idempotency-Key header) and lists plans on a live server, reading typed answers and typed errors."""

from __future__ import annotations

import datetime
import importlib
import pkgutil
import random
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from pytest_django.live_server_helper import LiveServer

from taqsit.models import Role
from taqsit.tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "taqsit_client"


def free_port() -> int:
    """A free port below 32768 (above it, the kernel hands out ephemeral ports to outgoing connections)."""
    for port in random.sample(range(20000, 32000), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("No free port between 20000 and 32000.")


@pytest.fixture
def server(settings):
    """The application on a live HTTP server over the test database."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    live = LiveServer(f"127.0.0.1:{free_port()}")
    try:
        yield live.url
    finally:
        live.stop()


@pytest.fixture
def client_package(server, tmp_path, monkeypatch):
    """The client generated from the live server's schema, importable."""
    schema = tmp_path / "schema.json"
    schema.write_bytes(httpx.get(f"{server}/api/schema/?format=json", timeout=30).raise_for_status().content)
    config = tmp_path / "config.yml"
    config.write_text("post_hooks: []\n")  # the generator's default runs ruff on the code; not needed to run it
    result = subprocess.run(  # noqa: S603 - the generator installed beside this interpreter, fixed arguments
        [
            str(GENERATOR),
            "generate",
            f"--path={schema}",
            f"--output-path={tmp_path / PACKAGE}",
            "--meta=none",
            f"--config={config}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output, output
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def test_a_client_generated_from_the_schema_works(server, client_package, merchant, today):
    UserFactory(merchant=merchant, role=Role.CLERK, username="counter")
    modules = [module.name for module in pkgutil.walk_packages(client_package.__path__, f"{PACKAGE}.")]
    for module in modules:
        importlib.import_module(module)  # every module imports (the form and multipart duplicates did not)
    from taqsit_client import AuthenticatedClient, Client
    from taqsit_client.api.auth import auth_token_create
    from taqsit_client.api.customers import customers_create
    from taqsit_client.api.installments import installments_plans_create, installments_plans_list
    from taqsit_client.models import (
        CustomerRequest,
        Error,
        FieldErrors,
        InstallmentFrequencyEnum,
        InstallmentsPlansListOrdering,
        InstallmentStatusEnum,
        PlanCreateRequest,
        TokenObtainPairRequest,
    )

    # Closed at the end: the server's thread for a kept-alive connection holds a database session until then.
    with Client(base_url=server) as anonymous:
        refused = auth_token_create.sync(
            client=anonymous, body=TokenObtainPairRequest(username="counter", password="no")
        )
        tokens = auth_token_create.sync(
            client=anonymous, body=TokenObtainPairRequest(username="counter", password=TEST_PASSWORD)
        )
    with AuthenticatedClient(base_url=server, token=tokens.access) as api:
        customer = customers_create.sync(client=api, body=CustomerRequest(name="Layla Nasser", phone="+14155550123"))
        bad_plan = installments_plans_create.sync(
            client=api,
            body=PlanCreateRequest(
                customer=customer.id,
                installment_frequency=InstallmentFrequencyEnum.MONTHLY,
                start_date=datetime.date(2026, 1, 15),
                total_amount="1000.00",
                down_payment="200.00",
                number_of_installments=0,
            ),
        )
        key = str(uuid.uuid4())
        terms = PlanCreateRequest(
            customer=customer.id,
            installment_frequency=InstallmentFrequencyEnum.MONTHLY,
            start_date=datetime.date(2026, 1, 15),
            total_amount="1000.00",
            down_payment="200.00",
            number_of_installments=4,
        )
        created = installments_plans_create.sync_detailed(client=api, body=terms, idempotency_key=key)
        replayed = installments_plans_create.sync_detailed(client=api, body=terms, idempotency_key=key)
        page = installments_plans_list.sync(client=api, ordering=InstallmentsPlansListOrdering.NUMBER)

    assert isinstance(refused, Error)
    assert refused.detail == "No active account found with the given credentials"
    assert isinstance(bad_plan, FieldErrors)
    assert bad_plan.additional_properties == {
        "number_of_installments": ["Ensure this value is greater than or equal to 1."]
    }
    assert created.status_code == 201
    assert (created.headers["Idempotent-Replayed"], replayed.headers["Idempotent-Replayed"]) == ("false", "true")
    plan = created.parsed
    assert (plan.customer, plan.total_payable, plan.status.value) == (customer.id, "1000.00", "active")
    assert page.count == 1
    (listed,) = page.results
    assert (listed.id, listed.reference, listed.customer_name) == (plan.id, plan.reference, "Layla Nasser")
    assert [(row.number, row.due_date.isoformat(), row.amount_due, row.status) for row in listed.installments] == [
        (1, "2026-02-15", "200.00", InstallmentStatusEnum.OVERDUE),
        (2, "2026-03-15", "200.00", InstallmentStatusEnum.PENDING),
        (3, "2026-04-15", "200.00", InstallmentStatusEnum.PENDING),
        (4, "2026-05-15", "200.00", InstallmentStatusEnum.PENDING),
    ]

"""PostgreSQL itself keeps the merchants apart (taqsit/rls.py, taqsit/tenancy.py).

Every test here runs as the runtime role, with the test suite's own policy off (a ``merchant_scope`` or
``no_merchant_scope`` is in force, as in any request, task or job): what is shown is what production gets.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection, connections, transaction
from django.http import HttpResponse
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from installments.jobs import _unpaid_rows
from installments.models import Installment, InstallmentPlan
from installments.selectors import installments_overdue, overdue_cutoff
from installments.tests.factories import plan_make
from installments.tests.test_query_plans import _plan as json_plan
from installments.tests.test_query_plans import nodes
from installments.views import COLLECTIONS_PAGE_SIZE
from payments.services import payment_post
from taqsit import rls, tenancy
from taqsit.models import Role
from taqsit.tenancy import merchant_scope, no_merchant_scope, scope_reset
from taqsit.tests.factories import TEST_PASSWORD, MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_shops(db):
    """Two merchants, each with a customer, a plan (with its installments and down payment), a payment."""
    shops = {}
    for name in ("A", "B"):
        merchant = MerchantFactory(name=f"Shop {name}")
        owner = UserFactory(merchant=merchant, role=Role.OWNER, username=f"owner-{name.lower()}")
        customer = CustomerFactory(merchant=merchant, name=f"Customer {name}")
        plan = plan_make(actor=owner, customer=customer)
        payment_post(
            actor=owner, plan=plan, amount=Decimal("50.00"), payment_date=date(2026, 2, 1), payment_method="cash"
        )
        shops[name] = {"merchant": merchant, "owner": owner, "customer": customer, "plan": plan}
    return shops


def _raw(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _session_setting() -> str:
    """The session's merchant as PostgreSQL has it now, read beside Django (no execute wrapper sets it first)."""
    connection.ensure_connection()
    return connection.connection.execute(f"SELECT current_setting('{rls.MERCHANT_SETTING}', true)").fetchone()[0]


def test_the_tests_run_as_the_runtime_role_which_is_no_superuser_owns_nothing_and_cannot_truncate():
    (role, superuser, bypass, create_role, create_db), *_ = _raw(
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
    )
    assert (role, superuser, bypass, create_role, create_db) == (settings.DATABASE_APP_ROLE, False, False, False, False)
    assert _raw(
        "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ) == [(0,)]
    assert _raw(
        "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' "
        "AND has_table_privilege(oid, 'TRUNCATE')"
    ) == [(0,)]
    assert _raw("SELECT has_schema_privilege('public', 'CREATE')") == [(False,)]
    platform = _raw("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [settings.DATABASE_PLATFORM_ROLE])
    assert platform == [(False, True)]


def test_every_model_with_a_merchant_has_its_policy_enabled_and_forced():
    """A new model with ``merchant_id`` fails here until its table has the tenant policy (the next ``migrate``
    gives it: taqsit/apps.py; or a migration calling ``rls.database_secure_operation``)."""
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if any(getattr(field, "column", None) == "merchant_id" for field in model._meta.concrete_fields)
        }
    )
    secured = dict(
        _raw(
            "SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity FROM pg_class c "
            "WHERE c.relname = ANY(%s) AND EXISTS (SELECT FROM pg_policies p "
            "WHERE p.tablename = c.relname AND p.policyname = %s)",
            [tables, rls.TENANT_POLICY],
        )
    )
    assert {table: secured.get(table, False) for table in tables} == dict.fromkeys(tables, True)
    # The trail and the idempotency records are among them, and so is every table the catalogue knows.
    assert {"auditlog_entry", "taqsit_idempotencyrecord", "installments_installmentplan"} <= set(tables)
    assert set(rls.tenant_tables(connection)) == set(tables)


def test_with_no_merchant_set_every_tenant_table_reads_empty(two_shops):
    with no_merchant_scope():
        counts = {
            table: _raw(f'SELECT count(*) FROM "{table}"')[0][0]  # noqa: S608 - names from the catalogue
            for table in rls.tenant_tables(connection)
            if table != rls.USER_TABLE
        }
        # Staff accounts are readable before the merchant is known (log-in); both shops' owners here.
        users = _raw("SELECT count(*) FROM taqsit_user")[0][0]
        plans = InstallmentPlan.objects.count()
    assert counts == dict.fromkeys(counts, 0)
    assert plans == 0
    assert users == 2
    # Outside the application (the test's own view) the rows are there.
    assert InstallmentPlan.objects.count() == 2


def test_with_merchant_a_set_unscoped_reads_show_a_only(two_shops):
    a, b = two_shops["A"], two_shops["B"]
    with merchant_scope(a["merchant"].pk):
        plans = list(InstallmentPlan.objects.all())
        raw = _raw("SELECT id, merchant_id FROM installments_installmentplan")
        installments = set(Installment.objects.values_list("merchant_id", flat=True))
        entries = set(_raw("SELECT DISTINCT merchant_id FROM auditlog_entry"))
        users = set(_raw("SELECT username FROM taqsit_user"))
        b_plan = InstallmentPlan.objects.filter(pk=b["plan"].pk).first()
    assert plans == [a["plan"]]
    assert raw == [(a["plan"].pk, a["merchant"].pk)]
    assert installments == {a["merchant"].pk}
    assert entries == {(a["merchant"].pk,)}
    assert users == {("owner-a",)}
    assert b_plan is None


def test_with_merchant_a_set_b_rows_cannot_be_changed_or_added(two_shops):
    a, b = two_shops["A"], two_shops["B"]
    with merchant_scope(a["merchant"].pk):
        # B's rows are not there to update or delete.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE installments_installmentplan SET notes = 'x' WHERE id = %s", [b["plan"].pk])
            assert cursor.rowcount == 0
            cursor.execute("DELETE FROM customers_customer WHERE id = %s", [b["customer"].pk])
            assert cursor.rowcount == 0
        assert InstallmentPlan.objects.filter(pk=b["plan"].pk).update(notes="x") == 0
        # A row of B's cannot be written, nor one of A's moved to B.
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            CustomerFactory(merchant=b["merchant"], name="Planted")
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            InstallmentPlan.objects.filter(pk=a["plan"].pk).update(merchant=b["merchant"])
    b["plan"].refresh_from_db()
    assert b["plan"].notes == ""
    assert InstallmentPlan.objects.get(pk=a["plan"].pk).merchant_id == a["merchant"].pk


def test_a_request_runs_for_its_merchant_and_the_connection_forgets_it_after(client, two_shops):
    a, b = two_shops["A"], two_shops["B"]
    client.force_login(a["owner"])

    response = client.get(reverse("installments:plan-detail", args=[b["plan"].pk]))
    assert response.status_code == 404
    response = client.get(reverse("installments:plan-detail", args=[a["plan"].pk]))
    assert response.status_code == 200

    # The session (kept by CONN_MAX_AGE for the next request) carries no merchant.
    assert _session_setting() == ""


def test_an_api_request_runs_for_the_tokens_merchant_and_is_reset_even_when_it_fails(api_client, two_shops):
    a, b = two_shops["A"], two_shops["B"]
    token = api_client.post("/api/auth/token/", {"username": "owner-a", "password": TEST_PASSWORD}, format="json")
    assert token.status_code == 200, token.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access']}")

    listed = api_client.get("/api/installments/plans/")
    assert [row["id"] for row in listed.json()["results"]] == [str(a["plan"].pk)]
    assert _session_setting() == ""
    refused = api_client.post(
        "/api/installments/payments/",
        {"plan": str(b["plan"].pk), "amount": "10.00", "payment_date": "2026-02-02", "payment_method": "cash"},
        format="json",
    )
    assert refused.status_code == 400
    assert _session_setting() == ""


def test_a_scope_is_reset_when_it_ends_and_after_a_task(two_shops):
    a = two_shops["A"]
    with merchant_scope(a["merchant"].pk):
        assert InstallmentPlan.objects.count() == 1
        assert _session_setting() == str(a["merchant"].pk)
    scope_reset()
    assert _session_setting() == ""


def _plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        lines = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return lines


def _explained(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return _plan(sql, params)


def test_the_hot_queries_keep_their_index_scans_under_the_policy(two_shops, today):
    """With sequential scans priced out, a plan that still has one could use no index: the policy's condition
    (a constant for the statement) must leave the queries' own indexes usable."""
    a = two_shops["A"]
    merchant, plan = a["merchant"], a["plan"]
    with merchant_scope(merchant.pk), transaction.atomic():
        plans = {
            # Payment posting: the plan locked, its unpaid installments read in order.
            "payment_post plan": _explained(InstallmentPlan.objects.select_for_update().filter(pk=plan.pk)),
            "payment_post installments": _explained(
                Installment.objects.filter(plan=plan, superseded_at__isnull=True).order_by("number")
            ),
            # The collections list.
            "overdue list": _explained(installments_overdue(merchant=merchant, today=today)),
            # The daily job's selects.
            "mark overdue": _explained(
                _unpaid_rows(merchant).filter(due_date__lt=overdue_cutoff(merchant, today=today))
            ),
            "tenant plan list": _explained(InstallmentPlan.objects.filter(merchant=merchant).order_by("-created_at")),
        }
    assert {name: "Seq Scan" in text for name, text in plans.items()} == dict.fromkeys(plans, False), plans
    assert all("merchant_id = (NULLIF(current_setting('taqsit.merchant_id'" in text for text in plans.values())


def test_a_forgotten_filter_leaks_nothing(api_client, client, two_shops, monkeypatch):
    """The application's own scoping switched off (every queryset unfiltered, as a forgotten filter leaves it):
    the database still answers a merchant's request with that merchant's rows only."""
    a, b = two_shops["A"], two_shops["B"]
    monkeypatch.setattr(tenancy, "queryset_for_user", lambda queryset, user: queryset)
    monkeypatch.setattr(tenancy.TenantQuerySet, "for_merchant", lambda self, merchant: self)
    # Outside the application (the test's view), the unfiltered queryset holds both shops' plans.
    assert tenancy.queryset_for_user(InstallmentPlan.objects.all(), a["owner"]).count() == 2

    api_client.force_authenticate(a["owner"])
    listed = api_client.get("/api/installments/plans/")
    assert [row["id"] for row in listed.json()["results"]] == [str(a["plan"].pk)]
    assert api_client.get(f"/api/installments/plans/{b['plan'].pk}/").status_code == 404

    client.force_login(a["owner"])
    assert client.get(reverse("installments:plan-detail", args=[b["plan"].pk])).status_code == 404
    page = client.get(reverse("installments:plan-list"))
    assert page.status_code == 200
    assert b["customer"].name not in page.content.decode()
    assert a["customer"].name in page.content.decode()


def test_a_request_acting_for_a_customer_runs_for_the_merchant_it_names(rf, two_shops):
    """The portal's entry point: no staff user, the merchant known from the link or token."""
    a = two_shops["A"]
    seen = {}

    def view(request):
        seen["before"] = InstallmentPlan.objects.count()
        tenancy.request_merchant_set(request, a["merchant"].pk)
        seen["after"] = list(InstallmentPlan.objects.values_list("pk", flat=True))
        seen["setting"] = _session_setting()
        return HttpResponse("ok")

    request = rf.get("/portal/")
    request.user = AnonymousUser()
    assert tenancy.TenantScopeMiddleware(view)(request).status_code == 200
    assert seen == {"before": 0, "after": [a["plan"].pk], "setting": str(a["merchant"].pk)}
    assert _session_setting() == ""


def test_a_streamed_export_is_read_for_the_request_merchant_after_the_view_returned(client, two_shops, monkeypatch):
    """A CSV export's rows are read while the response is sent, after the middleware returned: still for the
    request's merchant only (the application's own filter switched off here), and forgotten after."""
    a, b = two_shops["A"], two_shops["B"]
    monkeypatch.setattr(tenancy.TenantQuerySet, "for_merchant", lambda self, merchant: self)
    client.force_login(a["owner"])

    response = client.get(reverse("installments:collections-csv"))
    assert response.status_code == 200
    with tenancy.no_merchant_scope():  # the test's own reading of the stream would otherwise see every row
        body = b"".join(response.streaming_content).decode()
    assert a["customer"].name in body
    assert b["customer"].name not in body
    assert _session_setting() == ""


def test_a_connection_made_inside_another_wrappers_block_keeps_the_merchant_wrapper():
    """A request's first query often runs inside the audit context's execute wrapper: the connection is made
    there, and the wrapper that sets the merchant must outlive that block."""
    fresh = connections.create_connection("default")
    try:
        with fresh.execute_wrapper(lambda execute, *args: execute(*args)), fresh.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert fresh.execute_wrappers == [tenancy.scope_wrapper]
    finally:
        fresh.close()


def _json_plan(cursor, sql: str, params) -> dict:
    cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
    return json_plan(cursor)


@pytest.mark.django_db(transaction=True)  # committed and analyzed, so the planner has the statistics it has in use
def test_the_collections_first_page_walks_the_unpaid_index_in_due_date_order_under_the_policy(
    merchant, owner, other_merchant, today, database_owner_dsn, without_test_policy
):
    """The collections list's first page reads the merchant's overdue rows from the unpaid-by-due-date index in
    due-date order and stops after the page: a Limit over (at most) an incremental sort by the later keys, no
    Sort of every overdue row. The policy must not move the planner's estimate of those rows (it once did by the
    customers' share of the merchant, and the page then sorted all of them): the estimate is the owner's, whom
    the policy does not apply to."""
    # The merchant: 90 open plans of 2 years, most of each overdue; another shop with most of the customers,
    # so the merchant's share of the customers (what the policy's filter is taken for) is small.
    customers = [CustomerFactory(merchant=merchant) for _ in range(3)]
    for number in range(90):
        plan_make(actor=owner, customer=customers[number % 3], number_of_installments=24, start_date=date(2024, 1, 15))
    other_owner = UserFactory(merchant=other_merchant, role=Role.OWNER, username="owner-other")
    others = [CustomerFactory(merchant=other_merchant) for _ in range(300)]
    for customer in others[:20]:
        plan_make(actor=other_owner, customer=customer)
    without_test_policy()
    with psycopg.connect(database_owner_dsn, autocommit=True) as owner_connection:
        owner_connection.execute("ANALYZE")

    with merchant_scope(merchant.pk), transaction.atomic():
        page = installments_overdue(merchant=merchant, today=today)[:COLLECTIONS_PAGE_SIZE]
        sql, params = page.query.sql_with_params()
        with connection.cursor() as cursor:
            plan = _json_plan(cursor, sql, params)
        rows = len(list(page))
    with psycopg.connect(database_owner_dsn, autocommit=True) as owner_connection:
        unpoliced = _json_plan(owner_connection.cursor(), sql, params)

    assert rows == COLLECTIONS_PAGE_SIZE
    assert plan["Node Type"] == "Limit"
    kinds = [node["Node Type"] for node in nodes(plan)]
    assert "Sort" not in kinds, json.dumps(plan, indent=1)
    scans = [node for node in nodes(plan) if node.get("Relation Name") == "installments_installment"]
    assert [(scan["Node Type"], scan.get("Index Name"), scan.get("Scan Direction")) for scan in scans] == [
        ("Index Scan", "installment_unpaid_by_due", "Forward")
    ], json.dumps(plan, indent=1)
    for node in nodes(plan):  # whatever sorts, sorts what the index gives in due-date order
        if node["Node Type"] == "Incremental Sort":
            assert node["Presorted Key"] == ["installments_installment.due_date"]
    # The rows the planner expects under the policy are the rows it expects without it.
    below_limit = plan["Plans"][0]["Plan Rows"]
    assert below_limit == unpoliced["Plans"][0]["Plan Rows"]

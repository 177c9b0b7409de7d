"""The daily runs in the admin: platform admins only, read-only history (moved from notifications' admin)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from dailyrun.models import DailyJobRun

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today")]

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def run(merchant):
    return DailyJobRun.objects.create(
        merchant=merchant, day=date(2026, 3, 1), started_at=NOON, finished_at=NOON, results={"late_fees_apply": 2}
    )


def test_the_runs_open_for_a_platform_admin_and_stay_as_they_were(superuser, run):
    client = Client()
    client.force_login(superuser)

    assert client.get("/admin/dailyrun/dailyjobrun/").status_code == 200
    change = client.get(f"/admin/dailyrun/dailyjobrun/{run.pk}/change/")
    assert change.status_code == 200
    assert b"late_fees_apply" in change.content
    assert client.post(f"/admin/dailyrun/dailyjobrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert DailyJobRun.objects.filter(pk=run.pk).exists()


def test_merchant_staff_are_refused_every_permission(owner, run):
    owner.is_staff = True
    owner.save()
    request = RequestFactory().get("/")
    request.user = owner
    model_admin = admin.site._registry[DailyJobRun]

    assert [
        model_admin.has_module_permission(request),
        model_admin.has_view_permission(request, run),
        model_admin.has_change_permission(request, run),
        model_admin.has_delete_permission(request, run),
    ] == [False, False, False, False]

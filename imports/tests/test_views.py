"""The import pages: upload, the progress polled by htmx, the preview, confirm, the templates; owners and managers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer
from imports.models import ImportJob
from imports.tests.test_services import CUSTOMERS, csv_bytes

pytestmark = pytest.mark.django_db


def test_upload_preview_and_confirm_on_the_pages(client, manager, today, django_capture_on_commit_callbacks):
    client.force_login(manager)
    page = client.get(reverse("imports:import-list"))
    assert page.status_code == 200
    assert reverse("imports:import-template", args=["plans", "xlsx", "ar"]) in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("imports:import-list"),
            {"kind": "customers", "language": "en", "file": SimpleUploadedFile("customers.csv", CUSTOMERS)},
        )

    job = ImportJob.objects.get()
    assert response.url == reverse("imports:import-detail", args=[job.pk])
    preview = client.get(response.url).content.decode()
    assert 'data-count="create">2<' in preview
    assert 'id="import-confirm"' in preview
    assert "Amina Haddad · +14155550101 · A-1" in preview

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:import-confirm", args=[job.pk]))

    result = client.get(reverse("imports:import-detail", args=[job.pk])).content.decode()
    assert "2 rows imported." in result
    assert Customer.objects.count() == 2


def test_the_progress_fragment_polls_while_working_then_refreshes_the_page(client, owner, today):
    client.force_login(owner)
    job = ImportJob.objects.create(
        merchant=owner.merchant,
        kind="plans",
        file_format="csv",
        file="imports/x.csv",
        size=10,
        sha256="0" * 64,
        language="en",
        created_by=owner,
        status=ImportJob.Status.CHECKING,
        total=200,
        processed=50,
    )
    url = reverse("imports:import-detail", args=[job.pk])

    working = client.get(url, headers={"HX-Request": "true"})

    assert 'hx-trigger="every 1s"' in working.content.decode()
    assert 'value="25"' in working.content.decode()
    assert "50 of 200 rows" in working.content.decode()
    assert "HX-Refresh" not in working
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.READY, processed=200)
    done = client.get(url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
    assert "hx-trigger" not in done.content.decode()


def test_errors_are_shown_with_row_column_and_message_in_the_pages_language(client, owner, today, upload):
    job = upload(owner, "customers", csv_bytes("name,phone", "Sam,12"))
    client.force_login(owner)

    page = client.get(reverse("imports:import-detail", args=[job.pk]), {"show": "problems"}).content.decode()

    assert 'data-row="2" data-outcome="error"' in page
    assert "&#x27;12&#x27; is not a valid phone number for US." in page
    assert 'id="import-confirm"' not in page


@pytest.mark.parametrize("language", ["en", "es", "ar"])
def test_templates_download_in_each_language(client, owner, language):
    client.force_login(owner)

    response = client.get(reverse("imports:import-template", args=["customers", "csv", language]))

    assert response["Content-Disposition"] == f'attachment; filename="taqsit-customers-{language}.csv"'
    assert response.content.startswith("\ufeff".encode())
    assert client.get(reverse("imports:import-template", args=["loans", "csv", language])).status_code == 404


def test_clerks_may_not_open_the_import_pages_and_another_merchant_gets_a_404(
    client, clerk, other_owner, owner, upload, today
):
    job = upload(owner, "customers", CUSTOMERS)
    client.force_login(clerk)
    assert client.get(reverse("imports:import-list")).status_code == 403
    client.force_login(other_owner)
    assert client.get(reverse("imports:import-detail", args=[job.pk])).status_code == 404
    assert client.post(reverse("imports:import-confirm", args=[job.pk])).status_code == 404

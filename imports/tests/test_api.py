"""``/api/imports/``: upload (multipart), status, preview rows a page at a time, confirm; owners and managers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer
from imports.models import ImportJob
from imports.tests.test_services import CUSTOMERS, csv_bytes

pytestmark = pytest.mark.django_db


def test_upload_check_preview_and_confirm_through_the_api(
    api_client, manager, today, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            reverse("api:import-list"),
            {"kind": "customers", "file": SimpleUploadedFile("customers.csv", CUSTOMERS)},
            format="multipart",
        )

    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    assert {
        key: response.json()[key] for key in ("kind", "file_format", "original_name", "language", "created_by")
    } == {
        "kind": "customers",
        "file_format": "csv",
        "original_name": "customers.csv",
        "language": "en",
        "created_by": "manager",
    }
    status = api_client.get(reverse("api:import-detail", kwargs={"pk": job_id})).json()
    assert {key: status[key] for key in ("status", "total", "processed", "percent", "to_create", "errors")} == {
        "status": "ready",
        "total": 2,
        "processed": 2,
        "percent": 100,
        "to_create": 2,
        "errors": 0,
    }
    rows = api_client.get(reverse("api:import-rows", kwargs={"pk": job_id}), {"page_size": 1}).json()
    assert rows["count"] == 2
    assert rows["results"] == [
        {"number": 2, "outcome": "create", "key": "A-1", "summary": "Amina Haddad · +14155550101 · A-1", "problems": []}
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(reverse("api:import-confirm", kwargs={"pk": job_id}))

    assert (response.status_code, response.json()["status"]) == (202, "importing")
    done = api_client.get(reverse("api:import-detail", kwargs={"pk": job_id})).json()
    assert (done["status"], done["created_count"], done["confirmed_by"]) == ("completed", 2, "manager")
    assert Customer.objects.count() == 2
    again = api_client.post(reverse("api:import-confirm", kwargs={"pk": job_id}))
    assert (again.status_code, again.json()) == (
        400,
        {"status": ["This import's status is “Imported”: only an import ready to import can be confirmed."]},
    )


def test_bad_rows_are_listed_with_their_column_and_bad_input_is_a_400(
    api_client, owner, today, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(owner)
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api_client.post(
            reverse("api:import-list"),
            {"kind": "customers", "file": SimpleUploadedFile("c.csv", csv_bytes("name,phone", "Sam,12", "Lina,"))},
            format="multipart",
        ).json()["id"]

    rows = api_client.get(reverse("api:import-rows", kwargs={"pk": job_id}), {"problems": "true"}).json()

    assert [(row["number"], row["problems"]) for row in rows["results"]] == [
        (2, [{"column": "phone", "message": "'12' is not a valid phone number for US."}]),
        (3, [{"column": "phone", "message": "This field is required."}]),
    ]
    assert api_client.get(reverse("api:import-rows", kwargs={"pk": job_id}), {"outcome": "nope"}).json() == {
        "outcome": ["'nope' is not one of: create, skip, changed, error, created."]
    }
    refused = api_client.post(
        reverse("api:import-list"), {"kind": "loans", "file": SimpleUploadedFile("c.pdf", b"%PDF")}, format="multipart"
    )
    assert (refused.status_code, refused.json()) == (400, {"kind": ['"loans" is not a valid choice.']})
    refused = api_client.post(
        reverse("api:import-list"),
        {"kind": "customers", "file": SimpleUploadedFile("c.pdf", b"%PDF")},
        format="multipart",
    )
    assert (refused.status_code, refused.json()) == (
        400,
        {"file": ["Choose a CSV or XLSX file (this one is 'c.pdf')."]},
    )
    assert ImportJob.objects.count() == 1


def test_clerks_get_a_403_and_another_merchant_a_404(api_client, owner, clerk, other_owner, today, upload):
    job = upload(owner, "customers", CUSTOMERS)

    api_client.force_authenticate(clerk)
    assert api_client.get(reverse("api:import-list")).status_code == 403
    api_client.force_authenticate(other_owner)
    assert api_client.get(reverse("api:import-list")).json()["count"] == 0
    for name in ("import-detail", "import-rows"):
        assert api_client.get(reverse(f"api:{name}", kwargs={"pk": job.pk})).status_code == 404
    assert api_client.post(reverse("api:import-confirm", kwargs={"pk": job.pk})).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY

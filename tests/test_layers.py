"""The apps import one way (pyproject.toml, [tool.importlinter]), and a list of one app's rows under another
app's object is served by the app that owns the rows (issue 12)."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.urls import resolve
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_apps_import_one_way():
    """The layers contract holds (CI runs ``lint-imports`` too; here ``make test`` says it as well)."""
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == (
        EXIT_STATUS_SUCCESS
    )


def test_nested_lists_are_served_by_the_app_that_owns_their_rows():
    pk = uuid.uuid4()
    paths = (f"/api/customers/{pk}/plans/", f"/api/customers/{pk}/payments/", f"/api/installments/plans/{pk}/payments/")
    served = {
        path: (match.func.cls.__module__, match.func.cls.__name__, match.url_name)
        for path in paths
        for match in [resolve(path)]
    }

    assert served == {
        f"/api/customers/{pk}/plans/": ("installments.api", "CustomerPlanViewSet", "customer-plans"),
        f"/api/customers/{pk}/payments/": ("payments.api", "CustomerPaymentViewSet", "customer-payments"),
        f"/api/installments/plans/{pk}/payments/": ("payments.api", "PlanPaymentViewSet", "plan-payments"),
    }

"""The contract's PDF as an HTTP answer, the same for the staff page and the API."""

from __future__ import annotations

from django.http import HttpResponse

from installments.contract import Contract, contract_pdf


def contract_pdf_response(contract: Contract) -> HttpResponse:
    """The PDF inline (the browser shows it, its print button prints it), never kept by a cache, never sniffed."""
    plan = contract.plan
    suffix = "-signed" if contract.is_signed else ""
    response = HttpResponse(contract_pdf(contract), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="contract-{plan.reference}{suffix}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response

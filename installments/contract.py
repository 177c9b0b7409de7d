"""The plan's contract: one document in the customer's language (else the merchant's), as an HTML page for the
browser's print and as a PDF rendered by WeasyPrint, with the signatures drawn on screen at the counter.

The contract's *canonical text* is the text of its body (``installments/contract/_body.html``: the parties, the
items, the cost of credit, the schedule and the terms) with its whitespace collapsed: what a signer read. Its
SHA-256 is kept with every signature, so a contract whose text changed since (a reschedule) shows the old
signature no longer matches. The signature lines, the images and the footer are outside the hashed text.
"""

from __future__ import annotations

import base64
import hashlib
import html
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from installments.disclosure import CostOfCredit, plan_disclosure
from installments.models import ContractSignature, Installment, InstallmentPlan
from taqsit.models import Merchant
from taqsit.money_format import money_html

Signer = ContractSignature.Signer

# The address WeasyPrint sees the contract at: only ``/static/...`` under it is served (from the static files),
# anything else is refused, so rendering a contract never reaches the network nor reads another file.
PDF_BASE_URL = "https://contract.taqsit.invalid/"
_STATIC_PREFIX = PDF_BASE_URL + settings.STATIC_URL.lstrip("/")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SignatureLine:
    """One line to sign (the customer, each guarantor): the signature that matches this text, if any, and the
    latest one made on an earlier text, if that is all there is."""

    signer: str
    key: str
    name: str
    role_label: str
    signature: ContractSignature | None = None
    stale: ContractSignature | None = None

    @property
    def image_data_url(self) -> str:
        """The signature PNG inline (``data:``), read from private storage: the page and the PDF need no URL."""
        if self.signature is None:
            return ""
        with self.signature.image.open("rb") as image:
            return "data:image/png;base64," + base64.b64encode(image.read()).decode("ascii")


@dataclass
class Contract:
    """A plan's contract rendered in ``language``: its body, canonical text and SHA-256, and its signature lines."""

    plan: InstallmentPlan
    language: str
    context: dict
    body_html: str
    text: str
    text_sha256: str
    lines: list[SignatureLine] = field(default_factory=list)

    @property
    def is_rtl(self) -> bool:
        return translation.get_language_info(self.language)["bidi"]

    @property
    def is_signed(self) -> bool:
        """Every line (the customer's and each guarantor's) carries a signature of this very text."""
        return bool(self.lines) and all(line.signature is not None for line in self.lines)

    @property
    def has_stale_signatures(self) -> bool:
        return any(line.stale is not None and line.signature is None for line in self.lines)

    @property
    def signatures(self) -> list[ContractSignature]:
        return [line.signature for line in self.lines if line.signature is not None]


def contract_language(plan: InstallmentPlan) -> str:
    """The customer's language, else the merchant's, else English; always one the pages are written in."""
    available = dict(settings.LANGUAGES)
    for language in (plan.customer.language, plan.merchant.language):
        if language in available:
            return language
    return "en"


def plan_guarantors(plan: InstallmentPlan) -> list:
    """The plan's guarantors in the order they were entered."""
    return list(plan.guarantors.order_by("created_at", "id"))


def canonical_text(body_html: str) -> str:
    """The words of the contract's body, tags dropped (each one a word break, so two cells never run together),
    entities read and whitespace collapsed: what is hashed."""
    return _SPACE.sub(" ", html.unescape(strip_tags(body_html.replace(">", "> ")))).strip()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signed_on(plan: InstallmentPlan) -> datetime:
    return timezone.localtime(plan.created_at, plan.merchant.tzinfo)


def _percent(value: Decimal) -> str:
    from taqsit.templatetags.taqsit_tags import percent

    return percent(value)


def late_fee_terms(merchant: Merchant) -> list[str]:
    """The late-payment terms in words, from the merchant's policy: when a row is overdue, the fee (none, fixed or
    percent with its cap), where a fee goes (income, or apart for charity), and when the plan is in default."""
    currency = merchant.currency
    if merchant.grace_days:
        terms = [
            _("An installment not paid in full within %(days)s days after its due date is overdue.")
            % {"days": merchant.grace_days}
        ]
    else:
        terms = [_("An installment not paid in full on its due date is overdue.")]
    method = merchant.late_fee_method
    if method == Merchant.LateFeeMethod.FIXED:
        terms.append(
            _("A late fee of %(amount)s is charged once on each overdue installment.")
            % {"amount": money_html(merchant.late_fee_amount, currency)}
        )
    elif method == Merchant.LateFeeMethod.PERCENT:
        fee = _("A late fee of %(percent)s of the unpaid amount is charged once on each overdue installment.") % {
            "percent": _percent(merchant.late_fee_percent)
        }
        if merchant.late_fee_cap:
            fee += " " + _("It is never more than %(cap)s per installment.") % {
                "cap": money_html(merchant.late_fee_cap, currency)
            }
        terms.append(fee)
    else:
        terms.append(_("No late fee is charged."))
    if method != Merchant.LateFeeMethod.NONE:
        terms.append(_("A late fee never bears a fee or a charge of its own and is never added to the finance charge."))
        if merchant.late_fee_booking == Merchant.LateFeeBooking.CHARITY:
            terms.append(
                _(
                    "No late fee becomes income of the seller: every late fee collected is kept apart from the "
                    "seller's income and given to charity."
                )
            )
        elif merchant.sale_terms == Merchant.SaleTerms.MURABAHA:
            terms.append(
                _(
                    "The late fee covers only the actual cost the seller bears to collect a late payment; it is "
                    "not a profit on the debt."
                )
            )
    terms.append(
        _(
            "When an installment is still unpaid %(days)s days after its due date, the plan is in default until "
            "the buyer brings it up to date."
        )
        % {"days": merchant.default_after_days}
    )
    return terms


def settlement_terms(merchant: Merchant) -> list[str]:
    """The early-settlement terms in words, from the merchant's rebate rule."""
    terms = [
        _(
            "The buyer may pay off the whole remaining balance at any time. The amount to pay is quoted for the "
            "day of payment: the unpaid principal, the finance charge due up to that day and any unpaid late fees."
        )
    ]
    rule = merchant.early_settlement_rebate
    if rule == Merchant.SettlementRebate.ACTUARIAL:
        terms.append(
            _(
                "The finance charge not yet earned on the day of payment is rebated to the buyer, computed by the "
                "actuarial method."
            )
        )
    elif rule == Merchant.SettlementRebate.RULE_OF_78:
        terms.append(
            _(
                "The finance charge not yet earned on the day of payment is rebated to the buyer, computed by the "
                "rule of 78 (the sum of the digits)."
            )
        )
    elif rule == Merchant.SettlementRebate.DISCRETIONARY:
        terms.append(
            _(
                "The seller may, at its discretion, forgive part of the markup (ibra') when the buyer pays early; "
                "such a rebate is a gift of the seller, not a right under this contract."
            )
        )
    else:
        terms.append(_("No part of the finance charge is rebated on early payment."))
    return terms


def murabaha_terms(*, merchant: Merchant, cost: CostOfCredit) -> list[str]:
    """The wording of an Islamic installment sale (murabaha); none under conventional terms."""
    if merchant.sale_terms != Merchant.SaleTerms.MURABAHA:
        return []
    currency = merchant.currency
    return [
        _(
            "This is an Islamic installment sale (murabaha): the seller, who owns the items, sells them to the "
            "buyer at their cost of %(cash)s plus a markup of %(markup)s, both disclosed to the buyer, for a "
            "deferred price of %(credit)s."
        )
        % {
            "cash": money_html(cost.cash_price, currency),
            "markup": money_html(cost.finance_charge, currency),
            "credit": money_html(cost.credit_price, currency),
        },
        _(
            "The markup is fixed at the signing of this contract and is never increased: not for late payment, "
            "not when the schedule is changed, not for any other reason."
        ),
        _("A change of the schedule spreads only what remains unpaid and never adds markup."),
    ]


def _period_phrase(frequency: str) -> str:
    return {
        "weekly": pgettext("contract", "every week"),
        "biweekly": pgettext("contract", "every two weeks"),
        "monthly": pgettext("contract", "every month"),
        "quarterly": pgettext("contract", "every three months"),
    }.get(frequency, frequency)


def _body_context(plan: InstallmentPlan, merchant: Merchant) -> dict:
    rows = list(Installment.objects.current().filter(plan=plan).order_by("number"))
    guarantors = plan_guarantors(plan)
    cost = plan_disclosure(plan)
    clauses = merchant.contract_clauses or {}
    return {
        "plan": plan,
        "merchant": merchant,
        "customer": plan.customer,
        "currency": merchant.currency,
        "items": list(plan.items.select_related("product")),
        "guarantors": guarantors,
        "rows": rows,
        "cost": cost,
        "contract_date": _signed_on(plan).date(),
        "is_murabaha": merchant.sale_terms == Merchant.SaleTerms.MURABAHA,
        "period": _period_phrase(plan.installment_frequency),
        "late_fee_terms": late_fee_terms(merchant),
        "settlement_terms": settlement_terms(merchant),
        "murabaha_terms": murabaha_terms(merchant=merchant, cost=cost),
        "clauses": (clauses.get(translation.get_language()) or "").strip(),
    }


def _signature_lines(plan: InstallmentPlan, guarantors: list, sha: str) -> list[SignatureLine]:
    """The customer's line then each guarantor's, each with its latest signature of this text (or of an older one)."""
    signatures = list(ContractSignature.objects.filter(plan=plan).order_by("-signed_at", "-created_at"))
    wanted = [(Signer.CUSTOMER, "", plan.customer.name, Signer.CUSTOMER.label)]
    wanted += [
        (Signer.GUARANTOR, str(guarantor.pk), guarantor.name, Signer.GUARANTOR.label) for guarantor in guarantors
    ]
    lines = []
    for signer, key, name, label in wanted:
        theirs = [s for s in signatures if s.signer == signer and s.guarantor_key == key]
        current = next((s for s in theirs if s.text_sha256 == sha), None)
        stale = theirs[0] if theirs and theirs[0].text_sha256 != sha else None
        lines.append(SignatureLine(signer, key, name, str(label), signature=current, stale=stale))
    return lines


def contract_build(*, plan: InstallmentPlan, language: str | None = None) -> Contract:
    """The plan's contract in ``language`` (default: ``contract_language``): body, canonical text, its SHA-256 and
    the signature lines. Rendered under the language; the caller's active language is left as it was."""
    merchant = plan.merchant
    language = language or contract_language(plan)
    with translation.override(language), timezone.override(merchant.tzinfo):
        context = _body_context(plan, merchant)
        body_html = render_to_string("installments/contract/_body.html", context)
        text = canonical_text(body_html)
        sha = text_sha256(text)
        lines = _signature_lines(plan, context["guarantors"], sha)
    return Contract(
        plan=plan, language=language, context=context, body_html=body_html, text=text, text_sha256=sha, lines=lines
    )


def contract_document_context(contract: Contract) -> dict:
    """What the page and the PDF show around the body: the signature lines and the footer (hash, times)."""
    return {
        **contract.context,
        "contract": contract,
        "body_html": contract.body_html,
        "lines": contract.lines,
        "contract_language": contract.language,
        "contract_rtl": contract.is_rtl,
    }


class StaticOnlyFetcher:
    """WeasyPrint's URL fetcher for a contract: the project's static files (the stylesheet and its fonts) and
    inline ``data:`` images only. Everything else is refused, and a missing font stops the rendering."""

    def __init__(self) -> None:
        from weasyprint.urls import URLFetcher

        self._data = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
        self._fail_on_errors = True

    def __call__(self, url: str):
        from weasyprint.urls import URLFetcherResponse

        if url.startswith("data:"):
            return self._data.fetch(url)
        if not url.startswith(_STATIC_PREFIX):
            raise ValueError(f"A contract loads only the project's static files, not {url}")
        path = url.removeprefix(_STATIC_PREFIX).split("?")[0].split("#")[0]
        found = finders.find(path) if ".." not in path else None
        if not found:
            raise ValueError(f"No static file {path}")
        content_type = mimetypes.guess_type(found)[0] or "application/octet-stream"
        with open(found, "rb") as static_file:
            return URLFetcherResponse(url, static_file.read(), {"Content-Type": content_type})


def contract_pdf(contract: Contract) -> bytes:
    """The contract as a PDF (WeasyPrint: Pango and HarfBuzz shape the Arabic with the vendored Amiri font)."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    context = {**contract_document_context(contract), "pdf": True}
    with translation.override(contract.language), timezone.override(contract.plan.merchant.tzinfo):
        document = render_to_string("installments/contract/pdf.html", context)
    fonts = FontConfiguration()
    return HTML(string=document, base_url=PDF_BASE_URL, url_fetcher=StaticOnlyFetcher()).write_pdf(font_config=fonts)

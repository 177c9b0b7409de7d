"""Plan pages' forms: the new plan (terms, items), reschedule, a reason, and the collections filters.

They parse what was typed; ``plan_terms_build`` / ``plan_create`` / the lifecycle services decide whether it
holds. Amounts are read in the page's language (``AmountField``); the service judges the amount itself.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from installments.models import InstallmentPlan, Product
from installments.schedule import FinanceChargeMethod, Frequency
from installments.selectors import AGING_BUCKETS
from taqsit.forms import AmountField, TokenField, amount_fields_localize, amount_format
from taqsit.models import Merchant
from taqsit.money import minor_unit
from taqsit.money_format import money_html

ISO_DATE = ["%Y-%m-%d"]


def _money_input(label, **kwargs) -> AmountField:
    return AmountField(label=label, required=False, **kwargs)


def _date_input(label, **kwargs) -> forms.DateField:
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(label=label, input_formats=ISO_DATE, widget=widget, **kwargs)


def _blank_none(value):
    return None if value in (None, "") else value


class PlanTermsForm(forms.Form):
    """A plan's terms as typed; ``terms()`` gives ``plan_terms_build``'s keyword arguments."""

    total_amount = _money_input(_("Cash price"), help_text=_("Leave empty to use the items' total."))
    down_payment = _money_input(_("Down payment"), initial="0")
    installment_frequency = forms.ChoiceField(
        label=_("Frequency"), choices=Frequency.choices, initial=Frequency.MONTHLY
    )
    number_of_installments = forms.IntegerField(
        label=_("Number of installments"), required=False, min_value=1, max_value=600
    )
    installment_amount = _money_input(
        _("Installment amount"), help_text=_("Give the number of installments, the installment amount, or both.")
    )
    start_date = _date_input(_("Start date"))
    first_due_date = _date_input(_("First due date"), required=False, help_text=_("Default: one period after start."))
    finance_charge_method = forms.ChoiceField(
        label=_("Finance charge"), choices=FinanceChargeMethod.choices, initial=FinanceChargeMethod.NONE
    )
    interest_rate = _money_input(_("Annual interest rate (%)"), percent=True)

    TERM_FIELDS = (
        "total_amount",
        "down_payment",
        "installment_frequency",
        "number_of_installments",
        "installment_amount",
        "start_date",
        "first_due_date",
        "finance_charge_method",
        "interest_rate",
    )

    def __init__(self, *args, merchant: Merchant | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if merchant is not None:
            amount_fields_localize(self, currency=merchant.currency)

    def terms(self, items: list[dict]) -> dict:
        data = self.cleaned_data
        terms = {name: _blank_none(data.get(name)) for name in self.TERM_FIELDS}
        terms["down_payment"] = terms["down_payment"] or "0"
        terms["finance_charge_method"] = terms["finance_charge_method"] or FinanceChargeMethod.NONE
        terms["items"] = items
        return terms


class PlanForm(PlanTermsForm):
    token = TokenField()
    customer = forms.UUIDField(required=False, widget=forms.HiddenInput)
    sale_reference = forms.CharField(
        label=_("Sale reference"), max_length=64, required=False, help_text=_("The shop's receipt or POS number.")
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    confirm_rate = forms.BooleanField(label=_("I confirm this interest rate"), required=False)

    def rate_needs_confirming(self) -> bool:
        """A finance charge at an annual rate above INTEREST_RATE_CONFIRM_ABOVE: most likely a typo (36 for 3.6)."""
        data = getattr(self, "cleaned_data", {})
        rate = data.get("interest_rate")
        charged = data.get("finance_charge_method") not in ("", None, FinanceChargeMethod.NONE)
        return charged and rate is not None and rate > rate_ceiling()

    def clean(self) -> dict:
        data = super().clean()
        if self.rate_needs_confirming() and not data.get("confirm_rate"):
            self.add_error(
                "confirm_rate",
                _("An annual rate of %(rate)s %% is above %(ceiling)s %%: confirm it is right, or correct it.")
                % {
                    "rate": amount_format(data["interest_rate"], places=0),
                    "ceiling": amount_format(rate_ceiling(), places=0),
                },
            )
        return data


def rate_ceiling() -> Decimal:
    return Decimal(str(settings.INTEREST_RATE_CONFIRM_ABOVE))


class ProductSelect(forms.Select):
    """The product picker: each option carries the product's price, as the unit-price input reads it and as
    money, so picking a product shows its price (static/js/plan_form.js)."""

    currency = "USD"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None) -> dict:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        product = getattr(value, "instance", None)
        if isinstance(product, Product):
            option["attrs"]["data-price"] = amount_format(product.price, places=minor_unit(self.currency))
            option["attrs"]["data-price-label"] = _("Price: %(price)s") % {
                "price": money_html(product.price, self.currency)
            }
        return option


class ItemForm(forms.Form):
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.none(), required=False, widget=ProductSelect
    )
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, initial=1, required=False)
    unit_price = _money_input(_("Unit price"))
    serial_number = forms.CharField(label=_("Serial number or IMEI"), max_length=100, required=False)

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        amount_fields_localize(self, currency=merchant.currency)
        self.fields["product"].queryset = Product.objects.for_merchant(merchant).filter(is_active=True)
        self.fields["product"].widget.currency = merchant.currency
        self.fields["product"].empty_label = _("Free text")
        self.fields["unit_price"].widget.attrs["placeholder"] = _("The product's price")

    def item(self) -> dict | None:
        """The line for ``plan_terms_build``, or None for a row left empty."""
        data = self.cleaned_data
        typed = ("product", "description", "unit_price", "serial_number")
        if not data or not any(data.get(name) for name in typed):
            return None
        return {
            "product": data.get("product"),
            "description": data.get("description") or "",
            "quantity": data.get("quantity") or 1,
            "unit_price": _blank_none(data.get("unit_price")),
            "serial_number": data.get("serial_number") or "",
        }


ItemFormSet = forms.formset_factory(ItemForm, extra=1, max_num=50, validate_max=True)


def items_of(formset) -> list[dict]:
    return [item for form in formset.forms if (item := form.item()) is not None]


class GuarantorForm(forms.Form):
    """A guarantor as typed; ``guarantor_parse`` (the service) normalises and judges it."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    national_id = forms.CharField(label=_("National id"), max_length=50, required=False)
    relation = forms.CharField(label=_("Relation to the customer"), max_length=100, required=False)
    address = forms.CharField(label=_("Address"), max_length=255, required=False)

    def guarantor(self) -> dict | None:
        """The guarantor for ``plan_create``, or None for a block left empty."""
        data = getattr(self, "cleaned_data", None) or {}
        if not any((data.get(name) or "").strip() for name in self.fields):
            return None
        return {name: data.get(name) or "" for name in self.fields}


GuarantorFormSet = forms.formset_factory(GuarantorForm, extra=2, max_num=5, validate_max=True)


def guarantors_of(formset) -> list[dict]:
    return [guarantor for form in formset.forms if (guarantor := form.guarantor()) is not None]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class RescheduleForm(forms.Form):
    number_of_installments = forms.IntegerField(label=_("Number of installments"), min_value=1, max_value=600)
    installment_frequency = forms.ChoiceField(label=_("Frequency"), choices=Frequency.choices)
    start_date = _date_input(_("Start date"))
    first_due_date = _date_input(_("First due date"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PayoffForm(forms.Form):
    """The plan page's payoff quote: the day the customer would pay (empty: today)."""

    date = _date_input(_("Pay on"), required=False)


class PlanOriginFilterForm(forms.Form):
    origin = forms.ChoiceField(
        label=_("Origin"), choices=[("", _("All")), *InstallmentPlan.Origin.choices], required=False
    )


class PlanFilterForm(PlanOriginFilterForm):
    search = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Customer, plan number, sale reference or serial")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All")), *InstallmentPlan.Status.choices], required=False
    )
    field_order = ["search", "status", "origin"]


class CollectionsFilterForm(forms.Form):
    """Filters of the collections list (and its CSV export): who, how late, how much."""

    q = forms.CharField(
        label=_("Customer"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or phone")}),
    )
    aging = forms.ChoiceField(
        label=_("Days overdue"),
        required=False,
        choices=[("", _("All")), *((key, key) for key, _first, _last in AGING_BUCKETS)],
    )
    min_amount = AmountField(label=_("At least"), required=False)

    def filters(self) -> dict:
        """``installments_overdue_filter``'s keyword arguments; none while the filters do not read."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"search": data.get("q") or "", "aging": data.get("aging") or "", "min_amount": data.get("min_amount")}


class ContractSignForm(forms.Form):
    """A signature drawn on the pad: who signs (the customer or a guarantor), the PNG the pad made (a ``data:``
    URL) and the SHA-256 of the contract text shown with the pad."""

    DATA_URL_PREFIX = "data:image/png;base64,"

    signer = forms.ChoiceField(label=_("Who signs"))
    image = forms.CharField(widget=forms.HiddenInput, max_length=2 * 1024 * 1024)
    text_sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)

    def __init__(self, *args, lines=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signer"].choices = [
            (f"{line.signer}:{line.key}" if line.key else line.signer, f"{line.role_label}: {line.name}")
            for line in lines
        ]

    def clean_image(self) -> bytes:
        value = self.cleaned_data["image"]
        if not value.startswith(self.DATA_URL_PREFIX):
            raise forms.ValidationError(_("Sign on the pad first."))
        try:
            return base64.b64decode(value.removeprefix(self.DATA_URL_PREFIX), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise forms.ValidationError(_("Sign on the pad first.")) from exc

    def signature(self) -> dict:
        """The service's arguments: ``signer``, ``guarantor_key``, ``image``, ``text_sha256``."""
        signer, _sep, key = self.cleaned_data["signer"].partition(":")
        return {
            "signer": signer,
            "guarantor_key": key,
            "image": self.cleaned_data["image"],
            "text_sha256": self.cleaned_data["text_sha256"],
        }

"""The portal's forms: a phone or e-mail to send a code to, the code, a self-registration, an application for a
plan and a payment reported."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from installments.models import InstallmentPlan, Product
from installments.schedule import Frequency
from payments.models import Payment
from payments.services.report import REPORTABLE_METHODS, size_label
from taqsit.forms import AmountField, amount_fields_localize
from taqsit.models import Language, Merchant
from taqsit.money_format import money_html


class CodeRequestForm(forms.Form):
    destination = forms.CharField(
        label=_("Your phone number or e-mail address"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "dir": "ltr"}),
        help_text=_("The one the shop has for you. We send you a 6-digit code."),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]{6}",
                "class": "portal-code-input",
                "dir": "ltr",
            }
        ),
    )


class RegisterForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=200)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "dir": "ltr", "inputmode": "tel"}),
        help_text=_("We send a code to this phone to check it is yours."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False, widget=forms.EmailInput(attrs={"dir": "ltr"}))
    national_id = forms.CharField(label=_("National id"), max_length=50, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)


# The actions: apply for a plan, report a payment -------------------------------------------------------------

ISO_DATE = ["%Y-%m-%d"]
# What the proof input offers to pick; the service checks the file's content, whatever its name or type says.
PROOF_ACCEPT = "image/jpeg,image/png,image/webp,application/pdf"


def _date_input(label, **kwargs) -> forms.DateField:
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(label=label, input_formats=ISO_DATE, widget=widget, **kwargs)


class ProductChoice(forms.ModelChoiceField):
    """A product with its price, as the customer reads it on the shop's shelf."""

    def __init__(self, *args, currency: str = "USD", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def label_from_instance(self, product: Product) -> str:
        return f"{product.name} · {money_html(product.price, self.currency)}"


class ApplyForm(forms.Form):
    """An application as typed: a product of the shop, or a description of something else with its price; the
    terms the customer asks for. ``plan_apply`` decides whether they hold."""

    product = ProductChoice(label=_("Product"), queryset=Product.objects.none(), required=False)
    description = forms.CharField(
        label=_("Or describe what you want"),
        max_length=255,
        required=False,
        help_text=_("When it is not in the list: what it is, and its price below."),
    )
    total_amount = AmountField(label=_("Price"), required=False, help_text=_("Leave empty for the product's price."))
    down_payment = AmountField(label=_("Down payment"), required=False, initial=Decimal("0"))
    number_of_installments = forms.IntegerField(label=_("Number of installments"), min_value=1, max_value=600)
    installment_frequency = forms.ChoiceField(
        label=_("Frequency"), choices=Frequency.choices, initial=Frequency.MONTHLY
    )
    start_date = _date_input(_("Start date"), required=False, help_text=_("Default: today."))

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        amount_fields_localize(self, currency=merchant.currency)
        product = self.fields["product"]
        product.queryset = Product.objects.for_merchant(merchant).filter(is_active=True).order_by("name")
        product.currency = merchant.currency
        product.empty_label = _("Something else (describe it)")
        self.fields["total_amount"].widget.attrs["dir"] = "ltr"
        self.fields["down_payment"].widget.attrs["dir"] = "ltr"

    def application(self) -> dict:
        """``plan_apply``'s keyword arguments (and ``application_terms``'): a product is the sale's one line."""
        data = self.cleaned_data
        product = data.get("product")
        return {
            "items": [{"product": product, "description": "", "quantity": 1, "unit_price": None}] if product else None,
            "total_amount": data.get("total_amount"),
            "down_payment": data.get("down_payment") or Decimal("0"),
            "number_of_installments": data.get("number_of_installments"),
            "installment_frequency": data.get("installment_frequency") or "",
            "start_date": data.get("start_date"),
            "description": "" if product else (data.get("description") or ""),
        }


class PlanChoice(forms.ModelChoiceField):
    def __init__(self, *args, currency: str = "USD", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency

    def label_from_instance(self, plan: InstallmentPlan) -> str:
        return _("%(plan)s (%(remaining)s left)") % {
            "plan": plan.reference,
            "remaining": money_html(plan.remaining_balance, self.currency),
        }


class ReportForm(forms.Form):
    """A payment the customer made from afar, as typed; ``payment_report`` decides whether it holds."""

    plan = PlanChoice(label=_("Plan"), queryset=InstallmentPlan.objects.none(), empty_label=None)
    amount = AmountField(label=_("Amount paid"))
    payment_date = _date_input(_("Date of the payment"))
    payment_method = forms.ChoiceField(
        label=_("Paid by"),
        choices=[(method.value, method.label) for method in REPORTABLE_METHODS],
        initial=Payment.Method.BANK_TRANSFER,
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=100,
        help_text=_("The transfer's reference or transaction number, as your bank or wallet shows it."),
    )
    proof = forms.FileField(
        label=_("Proof of payment"),
        widget=forms.ClearableFileInput(attrs={"accept": PROOF_ACCEPT}),
    )

    def __init__(self, *args, customer: Customer, plans, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        currency = customer.merchant.currency
        amount_fields_localize(self, currency=currency)
        self.fields["plan"].queryset = plans
        self.fields["plan"].currency = currency
        self.fields["amount"].widget.attrs["dir"] = "ltr"
        self.fields["reference"].widget.attrs["dir"] = "ltr"
        self.fields["proof"].help_text = _(
            "A photo or PDF of the transfer (JPEG, PNG, WebP or PDF), up to %(limit)s."
        ) % {"limit": size_label(settings.PAYMENT_PROOF_MAX_BYTES)}

"""The counter's payment form and the refund/void reason; ``payment_post`` validates and allocates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.models import Payment
from taqsit.forms import AmountField, TokenField


class PaymentForm(forms.Form):
    token = TokenField()
    amount = AmountField(label=_("Amount"))
    payment_date = forms.DateField(
        label=_("Payment date"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    payment_method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices, initial=Payment.Method.CASH)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def payment(self) -> dict:
        data = dict(self.cleaned_data)
        data["idempotency_key"] = data.pop("token")
        return data


class ReversalForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)

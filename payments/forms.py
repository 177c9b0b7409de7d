"""The counter's payment form and the refund/void reason; ``payment_post`` validates and allocates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.models import Payment
from taqsit.forms import AmountField, TokenField


class PaymentForm(forms.Form):
    token = TokenField()
    # The plan's last payment number when the form was shown: a payment recorded since makes the form stale.
    seen_payment = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    # Shown with the warning that the same amount was just recorded: the clerk says it is another payment.
    record_again = forms.BooleanField(label=_("Record it again"), required=False)
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
        del data["seen_payment"], data["record_again"]
        return data


class ReversalForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)


class SettleForm(forms.Form):
    """Early settlement at the counter: the day paid (the quote follows it), how, and a discretionary rebate."""

    date = forms.DateField(
        label=_("Settlement date"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    payment_method = forms.ChoiceField(label=_("Method"), choices=Payment.Method.choices, initial=Payment.Method.CASH)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)
    rebate = AmountField(label=_("Rebate granted (ibra')"), required=False)
    reason = forms.CharField(
        label=_("Reason for the rebate"), required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class CharityDisbursementForm(forms.Form):
    amount = AmountField(label=_("Amount"))
    given_on = forms.DateField(
        label=_("Date given"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    recipient = forms.CharField(label=_("Recipient"), max_length=200)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

"""Customer forms: fields and labels only; ``customer_create``/``customer_update`` validate and save."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.services import EDITABLE_FIELDS
from taqsit.forms import ServiceModelForm


class CustomerForm(ServiceModelForm):
    class Meta:
        model = Customer
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
            "address": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"phone": _("International (+966 5...) or local to the merchant's country.")}


class CustomerInlineForm(ServiceModelForm):
    """The few fields needed to sign a new customer up from the new-plan page."""

    class Meta:
        model = Customer
        fields = ["name", "phone", "national_id", "language"]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"})}

    def has_input(self) -> bool:
        """True when the clerk typed a new customer's name or phone (the rest has defaults)."""
        return bool(self.data.get(self.add_prefix("name"), "").strip() or self.data.get(self.add_prefix("phone"), ""))


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, phone or national id"), "autocomplete": "off"}
        ),
    )

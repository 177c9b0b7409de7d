"""The worklist's pages: its filters, the bulk assignment, the contact and the promise forms, the figures' week."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from collectors.models import Contact
from collectors.selectors import Order, PromiseFilter, Show
from taqsit.forms import AmountField


class WorklistFilterForm(forms.Form):
    show = forms.ChoiceField(label=_("Plans"), required=False)
    promise = forms.ChoiceField(
        label=_("Promise"),
        required=False,
        choices=[
            (PromiseFilter.ANY, _("Any")),
            (PromiseFilter.BROKEN, _("Broken promises")),
            (PromiseFilter.OPEN, _("Promises waiting")),
            (PromiseFilter.NONE, _("No promise waiting")),
        ],
    )
    order = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            (Order.PRIORITY, _("Broken promises first")),
            (Order.PROMISE, _("By the promise's date")),
            (Order.OLDEST, _("Longest overdue first")),
        ],
    )
    q = forms.CharField(label=_("Customer"), required=False, max_length=100)

    def __init__(self, *args, collectors=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["show"].choices = [
            (Show.ALL, _("Everyone's")),
            (Show.MINE, _("Mine")),
            (Show.UNASSIGNED, _("Unassigned")),
            *[(str(user.pk), str(user)) for user in collectors],
        ]

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "show": data.get("show") or Show.ALL,
            "promise": data.get("promise") or PromiseFilter.ANY,
            "order": data.get("order") or Order.PRIORITY,
            "search": data.get("q") or "",
        }


class AssignForm(forms.Form):
    plans = forms.MultipleChoiceField(label=_("Plans"), error_messages={"required": _("Choose at least one plan.")})
    collector = forms.ChoiceField(label=_("Collector"), required=False)

    def __init__(self, *args, plans=(), collectors=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plans"].choices = [(str(plan_id), str(plan_id)) for plan_id in plans]
        self.fields["collector"].choices = [("", _("Nobody (unassign)")), *[(str(u.pk), str(u)) for u in collectors]]


class ContactForm(forms.Form):
    kind = forms.ChoiceField(label=_("How"), choices=Contact.Kind.choices, initial=Contact.Kind.CALL)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Contact.Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class PromiseForm(forms.Form):
    amount = AmountField(label=_("Amount promised"))
    promised_on = forms.DateField(
        label=_("Promised for"),
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    kind = forms.ChoiceField(label=_("How"), choices=Contact.Kind.choices, initial=Contact.Kind.CALL)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class FiguresForm(forms.Form):
    week = forms.CharField(
        label=_("Last week"),
        required=False,
        widget=forms.DateInput(attrs={"type": "week"}),
        help_text=_("An ISO week, as 2026-W10."),
    )
    weeks = forms.IntegerField(label=_("Weeks"), required=False, min_value=1, max_value=52, initial=8)
    collector = forms.ChoiceField(label=_("Collector"), required=False)

    def __init__(self, *args, collectors=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collector"].choices = [("", _("Everyone")), *[(str(u.pk), str(u)) for u in collectors]]

    def clean_week(self) -> date | None:
        text = self.cleaned_data.get("week") or ""
        if not text:
            return None
        try:
            year, week = text.split("-W")
            return date.fromisocalendar(int(year), int(week), 1)
        except ValueError:
            raise forms.ValidationError(_("Enter an ISO week such as 2026-W10.")) from None

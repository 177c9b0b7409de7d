from django import forms
from django.utils.translation import gettext_lazy as _

from taqsit.events import EVENT_TYPES


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("An https:// address of your system; it is sent a signed POST for each event chosen."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=[(name, name) for name in EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

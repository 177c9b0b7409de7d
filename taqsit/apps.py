from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TaqsitConfig(AppConfig):
    name = "taqsit"
    verbose_name = _("Taqsit core")

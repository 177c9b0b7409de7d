from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Spreadsheet import: a shop's customers, products and running plans from CSV and XLSX, previewed, then
    imported in one transaction (imports/services.py)."""

    name = "imports"
    verbose_name = _("Imports")

"""The admin site is for platform admins only (active superusers).

Merchant staff work in the pages and the API, which scope every row to their merchant; the admin's lists,
filters and lookups span every merchant, so even a staff user with ``is_staff`` set is kept out.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class TaqsitAdminSite(admin.AdminSite):
    site_header = "Taqsit"
    site_title = "Taqsit admin"
    index_title = "Platform administration"

    @property
    def login_form(self):
        """Refuses an overlong username with a form error (taqsit/forms.py); imported here, as this module loads
        with the app registry, before any model can be."""
        from taqsit.forms import AdminLoginForm

        return AdminLoginForm

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)


class TaqsitAdminConfig(AdminConfig):
    default_site = "taqsit.admin_site.TaqsitAdminSite"

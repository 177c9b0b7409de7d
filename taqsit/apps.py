from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def database_secure_after_migrate(sender, using: str, **kwargs) -> None:
    """Every ``migrate`` (and flush) ends by securing whatever tables it made: the roles' privileges and row-level
    security on each table with ``merchant_id`` (taqsit/rls.py). Only the owner may; another role skips it."""
    from django.conf import settings
    from django.db import connections

    from taqsit import rls

    connection = connections[using]
    if connection.settings_dict.get("USER") in {settings.DATABASE_APP_ROLE, settings.DATABASE_PLATFORM_ROLE}:
        return
    rls.database_secure(connection)


class TaqsitConfig(AppConfig):
    name = "taqsit"
    verbose_name = _("Taqsit core")

    def ready(self) -> None:
        from taqsit.tenancy import scope_wrapper_install

        connection_created.connect(scope_wrapper_install, dispatch_uid="taqsit_scope_wrapper")
        post_migrate.connect(database_secure_after_migrate, sender=self, dispatch_uid="taqsit_database_secure")

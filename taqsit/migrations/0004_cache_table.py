"""The database cache's table (django.core.cache.backends.db), so that ``migrate`` is all a fresh install needs
when no Redis is configured: the cache every process shares then lives in PostgreSQL (settings.CACHES)."""

from django.conf import settings
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

# settings.CACHES' default; another table named in CACHE_URL (dbcache://name) is created too.
DEFAULT_TABLE = "taqsit_cache"


def _tables() -> list[str]:
    tables = [DEFAULT_TABLE]
    for cache in settings.CACHES.values():
        if cache["BACKEND"].endswith("DatabaseCache") and cache["LOCATION"] not in tables:
            tables.append(cache["LOCATION"])
    return tables


def create_cache_tables(apps, schema_editor) -> None:
    command = CreateCacheTable()
    command.verbosity = 0
    for table in _tables():
        command.create_table(schema_editor.connection.alias, table, dry_run=False)


def drop_cache_tables(apps, schema_editor) -> None:
    for table in _tables():
        schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(table)}")


class Migration(migrations.Migration):
    dependencies = [("taqsit", "0003_user_username_and_email_unique")]

    operations = [migrations.RunPython(create_cache_tables, drop_cache_tables)]

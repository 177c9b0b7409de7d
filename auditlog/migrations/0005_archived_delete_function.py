"""The one way entries leave the trail: ``audit_trail_archived_delete``, a security-definer function of the owner.

The runtime role has INSERT and SELECT on auditlog_entry and nothing else (taqsit/rls.py): no UPDATE, DELETE or
TRUNCATE, whatever ``pgtrigger.ignore`` or ``session_replication_role`` says. The archival (auditlog/archive.py)
deletes the entries of one merchant's month through this function, which runs as the owner and deletes only
when the caller shows it holds exactly those entries as archived: the ids, all of that merchant and that period,
and the sha256 of their text as the archive's lines (which the archival computed while
writing the file and checked by reading the file back). Anything else is refused and nothing is deleted.
"""

from django.db import migrations

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION audit_trail_archived_delete(
    p_merchant uuid, p_start timestamptz, p_end timestamptz, p_ids bigint[], p_sha256 text
) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    matching integer;
    digest text;
    protect text;
    previous text := current_setting('pgtrigger.ignore', true);
    deleted integer;
BEGIN
    SELECT count(*),
           encode(sha256(convert_to(string_agg(
               (to_jsonb(e) || '{"restored_at": null}'::jsonb)::text || E'\n', '' ORDER BY e.id), 'UTF8')), 'hex')
      INTO matching, digest
      FROM auditlog_entry e
     WHERE e.id = ANY(p_ids)
       AND e.merchant_id IS NOT DISTINCT FROM p_merchant
       AND e.created_at >= p_start AND e.created_at < p_end;
    IF matching <> cardinality(p_ids) OR matching <> (SELECT count(DISTINCT i) FROM unnest(p_ids) AS i) THEN
        RAISE EXCEPTION 'auditlog: % of % entries are of that merchant and period: nothing deleted',
            matching, cardinality(p_ids);
    END IF;
    IF digest IS DISTINCT FROM p_sha256 THEN
        RAISE EXCEPTION 'auditlog: the entries do not match the archive (sha256): nothing deleted';
    END IF;
    -- The append-only trigger (auditlog/models.py) guards the owner too; this delete is its one exception.
    SELECT string_agg(tgname || ',auditlog_entry:' || tgname, ',') INTO protect
      FROM pg_trigger WHERE tgrelid = 'auditlog_entry'::regclass AND tgname LIKE 'pgtrigger_append_only_%';
    PERFORM set_config('pgtrigger.ignore', '{' || COALESCE(protect, '') || '}', true);
    DELETE FROM auditlog_entry WHERE id = ANY(p_ids);
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('pgtrigger.ignore', COALESCE(previous, ''), true);
    RETURN deleted;
END;
$$;
REVOKE ALL ON FUNCTION audit_trail_archived_delete(uuid, timestamptz, timestamptz, bigint[], text) FROM PUBLIC;
"""


def function_install(apps, schema_editor) -> None:
    from django.conf import settings

    schema_editor.execute(FUNCTION_SQL, params=None)
    for role in (settings.DATABASE_APP_ROLE, settings.DATABASE_PLATFORM_ROLE):
        schema_editor.execute(
            "GRANT EXECUTE ON FUNCTION audit_trail_archived_delete(uuid, timestamptz, timestamptz, bigint[], text) "
            f"TO {schema_editor.quote_name(role)}"
        )


def function_drop(apps, schema_editor) -> None:
    schema_editor.execute(
        "DROP FUNCTION IF EXISTS audit_trail_archived_delete(uuid, timestamptz, timestamptz, bigint[], text)"
    )


class Migration(migrations.Migration):
    dependencies = [("auditlog", "0004_capture_portal"), ("taqsit", "0006_runtime_roles")]

    operations = [migrations.RunPython(function_install, function_drop)]

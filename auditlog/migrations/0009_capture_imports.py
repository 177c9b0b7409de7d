"""The capture triggers of the spreadsheet imports (issue 17), as auditlog/capture.py generates them: each import
uploaded, checked, confirmed and imported (or not) is an entry of the merchant's trail; its progress is not.
Backwards: they go."""

from django.db import migrations

INSTALL_SQL = r"""CREATE OR REPLACE FUNCTION auditlog_capture_imports_importjob() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
    ctx_id uuid := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'imports.importjob', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT NULL::jsonb AS before, to_jsonb(n) - ARRAY['updated_at', 'processed', 'total']::text[] AS after, to_jsonb(n) AS r
              FROM new_rows AS n) AS change;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'imports.importjob', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT to_jsonb(o) - ARRAY['updated_at', 'processed', 'total']::text[] AS before, NULL::jsonb AS after, to_jsonb(o) AS r
              FROM old_rows AS o) AS change;
    ELSE
        INSERT INTO auditlog_entry (created_at, merchant_id, object_type, object_id, operation, before, after, actor_id, actor_customer_id, role, source, action, request_id, ip, context, context_id, plan_id, customer_id)
        SELECT now(), (r ->> 'merchant_id')::uuid, 'imports.importjob', r ->> 'id', lower(TG_OP), change.before, change.after, NULLIF(ctx ->> 'actor', '')::uuid, NULLIF(ctx ->> 'actor_customer', '')::uuid, left(COALESCE(ctx ->> 'role', ''), 20), left(COALESCE(ctx ->> 'source', ''), 10), left(COALESCE(ctx ->> 'action', ''), 100), left(COALESCE(ctx ->> 'request_id', ''), 64), NULLIF(ctx ->> 'ip', '')::inet, ctx, ctx_id, NULL::uuid, NULL::uuid
        FROM (SELECT diff.before, diff.after, to_jsonb(n) AS r
              FROM old_rows AS o
              JOIN new_rows AS n ON n.id = o.id
              CROSS JOIN LATERAL (
                  SELECT jsonb_object_agg(was.key, was.value) AS before,
                         jsonb_object_agg(was.key, became.value) AS after
                    FROM jsonb_each(to_jsonb(o) - ARRAY['updated_at', 'processed', 'total']::text[]) AS was
                    JOIN jsonb_each(to_jsonb(n) - ARRAY['updated_at', 'processed', 'total']::text[]) AS became ON became.key = was.key
                   WHERE was.value IS DISTINCT FROM became.value
              ) AS diff
             WHERE diff.before IS NOT NULL) AS change;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER auditlog_capture_insert AFTER INSERT ON imports_importjob REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auditlog_capture_imports_importjob();
CREATE TRIGGER auditlog_capture_update AFTER UPDATE ON imports_importjob REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auditlog_capture_imports_importjob();
CREATE TRIGGER auditlog_capture_delete AFTER DELETE ON imports_importjob REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION auditlog_capture_imports_importjob();
"""

UNINSTALL_SQL = r"""DROP TRIGGER IF EXISTS auditlog_capture_insert ON imports_importjob;
DROP TRIGGER IF EXISTS auditlog_capture_update ON imports_importjob;
DROP TRIGGER IF EXISTS auditlog_capture_delete ON imports_importjob;
DROP FUNCTION IF EXISTS auditlog_capture_imports_importjob();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("auditlog", "0008_capture_collectors"),
        ("imports", "0001_initial"),
    ]

    operations = [migrations.RunSQL(INSTALL_SQL, UNINSTALL_SQL)]

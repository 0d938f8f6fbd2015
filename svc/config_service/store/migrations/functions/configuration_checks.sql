-- What a write of `wanted` must have checked before it may commit (configurations/schemas.py
-- names it the same way): the schema it validated the body against, `{schema_id}@{revision}`
-- ('' for none; `linked` and `pinned` are the attachment the write will have), then
-- `+followers` when other configurations follow `wanted` (its new body must be a schema they
-- still satisfy). The schema's row is locked FOR SHARE first, so it cannot change until the
-- write commits; a schema's own write locks itself FOR UPDATE, so the two take turns.
CREATE OR REPLACE FUNCTION configuration_checks(wanted text, linked text, pinned integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    required text := '';
BEGIN
    IF linked IS NOT NULL THEN
        PERFORM FROM configurations described WHERE described.id = linked FOR SHARE;
        required := linked || '@' || COALESCE(pinned, (
            SELECT max(kept.revision) FROM configuration_revisions kept
            WHERE kept.configuration_id = linked));
    END IF;
    IF EXISTS (SELECT FROM configuration_schemas follower WHERE follower.schema_id = wanted) THEN
        required := required || '+followers';
    END IF;
    RETURN required;
END
$$;

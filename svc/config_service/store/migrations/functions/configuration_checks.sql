-- What a write of `wanted` must have checked before it may commit (configurations/schemas.py
-- names it the same way): the schema it validated the body against, `{schema_id}@{revision}`
-- ('' for none; `linked` and `pinned` are the attachment the write will have), then
-- `+followers` when other configurations follow `wanted` (its new body must be a schema they
-- still satisfy).
--
-- Turns, with transaction-scoped advisory locks (two int4 keys: 29, the schemas' lock space,
-- and the id's hash; the migrations' lock, one bigint key, is of another kind): a write of a
-- configuration takes its own exclusively, and a write that follows a schema takes the
-- schema's shared, both until it commits. So a schema cannot change while a follower's write
-- validated against it is in flight, and a new follower cannot slip past a schema's change;
-- followers never wait for each other. (Not FOR SHARE on the schema's row: many writers
-- sharing one row lock it through a MultiXact, a write of the row's header each time.)
CREATE OR REPLACE FUNCTION configuration_checks(wanted text, linked text, pinned integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    required text := '';
BEGIN
    PERFORM pg_advisory_xact_lock(29, hashtext(wanted));
    IF linked IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock_shared(29, hashtext(linked));
        required := linked || '@' || COALESCE(pinned, configuration_current_revision(linked));
    END IF;
    IF EXISTS (SELECT FROM configuration_schemas follower WHERE follower.schema_id = wanted) THEN
        required := required || '+followers';
    END IF;
    RETURN required;
END
$$;

-- Schemas (docs/schemas.md): a configuration may be described by another, whose config is a
-- JSON Schema; every write of it through the API is validated against that schema first
-- (functions/configuration_create_checked.sql, functions/configuration_put_checked.sql).
--
-- The attachment. One row per described configuration: the schema it follows, and the
-- revision of the schema it is pinned to (NULL: the schema's current revision). Sent and
-- answered as `Link: </api/v1/configurations/{schema_id}[?revision=N]>; rel="describedby"`;
-- stored and recorded as `{schema_id}[?revision=N]`, the path's prefix being the service's.
-- The two tables the user specified stay as they are.
CREATE TABLE configuration_schemas (
    configuration_id varchar(26) PRIMARY KEY REFERENCES configurations (id) ON DELETE CASCADE,
    schema_id        varchar(26) NOT NULL REFERENCES configurations (id),
    schema_revision  integer CHECK (schema_revision > 0),
    CHECK (schema_id <> configuration_id)
);
CREATE INDEX configuration_schemas_by_schema ON configuration_schemas (schema_id);

-- A revision records the attachment it was made under, so `?revision=N` answers the link it
-- had then, and an attachment changed alone (same body) is a revision of its own: who attached
-- what, and when, is in ?history like a change of the body.
ALTER TABLE configuration_revisions ADD COLUMN described_by text;

-- An attachment is part of the configuration's representation (its Link header and ETag): a
-- change of it is announced like a change of the configuration. The trigger's function is
-- created empty here, for the trigger to name; its body is
-- functions/notify_configuration_schema_changed.sql, applied right after the versioned files.
CREATE FUNCTION notify_configuration_schema_changed() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;

CREATE TRIGGER configuration_schemas_notify
    AFTER INSERT OR UPDATE OR DELETE ON configuration_schemas
    FOR EACH ROW EXECUTE FUNCTION notify_configuration_schema_changed();

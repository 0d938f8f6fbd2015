-- A configuration's attachment as stored and recorded: `{schema_id}` or
-- `{schema_id}?revision=N`, NULL when it follows no schema (migration 0014).
CREATE OR REPLACE FUNCTION configuration_described_by(described text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT link.schema_id || COALESCE('?revision=' || link.schema_revision, '')
    FROM configuration_schemas link
    WHERE link.configuration_id = described
$$;

-- Why a link to the schema `linked` (pinned to a revision or not) cannot describe `wanted`:
-- 'missing' (no such configuration in the caller's scope, or no such revision of it: the same
-- answer), 'self', 'loop' (the schema is described, directly or not, by `wanted`); NULL when
-- it can.
CREATE OR REPLACE FUNCTION configuration_link_refusal(
    wanted text, linked text, pinned integer, everything boolean, exact text[], prefixes text[]
)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF linked = wanted THEN
        RETURN 'self';
    END IF;
    IF NOT EXISTS (
        SELECT FROM configurations described
        JOIN applications application ON application.id = described.application_id
        WHERE described.id = linked
          AND application_in_scope(application.name, everything, exact, prefixes)
          AND (pinned IS NULL OR EXISTS (
                SELECT FROM configuration_revisions kept
                WHERE kept.configuration_id = linked AND kept.revision = pinned))
    ) THEN
        RETURN 'missing';
    END IF;
    IF EXISTS (
        WITH RECURSIVE chain (id) AS (
            SELECT linked
            UNION
            SELECT link.schema_id
            FROM configuration_schemas link JOIN chain ON link.configuration_id = chain.id
        )
        SELECT FROM chain WHERE chain.id = wanted
    ) THEN
        RETURN 'loop';
    END IF;
    RETURN NULL;
END
$$;

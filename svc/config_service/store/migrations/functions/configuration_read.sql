-- GET /configurations/{id} as one function call (configurations/queries.py): the
-- representation (configuration_representation.sql, the bytes every revision keeps), its
-- current revision number (configuration_current_revision.sql: not a candidate's) and its
-- application's name (which decides a token's scope).
--
-- Why a plpgsql function rather than the same SELECT sent as it is: psycopg2 sends each
-- statement as text, so PostgreSQL plans it on every call, and planning the join and the
-- revision subquery cost more than running them (docs/performance.md). plpgsql keeps the plan
-- of its query for the life of the connection. That cache is no session state a client
-- depends on, so it is as safe through PgBouncer in transaction mode as any statement: a
-- connection that has not planned it yet just plans it once.
CREATE OR REPLACE FUNCTION configuration_read(wanted text)
RETURNS TABLE (id text, body text, revision integer, application_name text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT configuration.id::text,
           configuration_representation(configuration),
           configuration_current_revision(configuration.id),
           application.name::text
    FROM configurations configuration
    JOIN applications application ON application.id = configuration.application_id
    WHERE configuration.id = wanted;
END
$$;

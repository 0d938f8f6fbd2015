-- POST and PUT of a configuration as plpgsql functions, for the reason 0008 gives for reads:
-- psycopg2 sends every statement as text, so PostgreSQL planned the write path's joins,
-- subqueries and CTE on every call, and planning cost more than running them (a PUT's two
-- statements, in a transaction rolled back, took 1.7–2.3 ms a call; as these functions
-- 1.0–1.3 ms: PostgreSQL 15, one connection, 1,000 configurations; in a new session, EXPLAIN
-- ANALYZE of the locking read showed 1.5 ms of planning for 0.3 ms of execution). A function
-- keeps each query's plan for the life of the connection; that is no session state a client
-- depends on, so it is as safe through PgBouncer in transaction mode as the statements were.
--
-- What each write does is unchanged (0007 explains revisions and who is recorded):
-- * configuration_create inserts into an existing application of the caller's scope only, so
--   a name taken in an application out of scope is not revealed, and locks that application
--   FOR SHARE: a concurrent rename must wait, so the name that decided scope is the one kept.
-- * configuration_lock locks the row (a concurrent editor waits, then sees this edit), and its
--   application as above, and returns the representation that If-Match is checked against.
--   The service checks If-Match and scope between it and configuration_update, in the same
--   transaction, since the ETag is a hash PostgreSQL does not have (blake2b).
-- * configuration_update updates only when the representation changes (a PUT that changes
--   nothing records no revision, sends no notification, keeps the ETag; config compared as
--   text, as it is rendered: jsonb calls 1 and 1.0 equal), then applies REVISIONS_KEEP: it
--   deletes the revisions older than the newest `keep` (0 keeps all), never the current one.
-- Both set who writes (transaction-local settings, 0007) before anything is written.
--
-- The scope condition is a function too, so the list queries (applications/queries.py) and
-- configuration_create decide scope by the same text: `*` alone (`everything`), an exact name,
-- or a prefix (`prefixes` are LIKE patterns with their `%`, `_` and `\` escaped). A one-line
-- IMMUTABLE SQL function: PostgreSQL inlines it, so a query that calls it plans as if the
-- condition were written out.

CREATE FUNCTION application_in_scope(name text, everything boolean, exact text[], prefixes text[])
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT everything OR name = ANY(exact) OR name LIKE ANY(prefixes)
$$;

CREATE FUNCTION set_configuration_author(author text, request text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    SELECT set_config('config_service.changed_by', author, true),
           set_config('config_service.request_id', request, true)
$$;

CREATE FUNCTION configuration_create(
    new_id text, parent text, new_name text, new_comments text, new_config jsonb,
    author text, request text, everything boolean, exact text[], prefixes text[]
)
RETURNS TABLE (id text, body text, revision integer, application_name text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_configuration_author(author, request);
    INSERT INTO configurations (id, application_id, name, comments, config)
    SELECT new_id, application.id, new_name, new_comments, new_config
    FROM applications application
    WHERE application.id = parent
      AND application_in_scope(application.name, everything, exact, prefixes)
    FOR SHARE OF application;
    -- No row when there is no such application in scope: the service answers the same for both.
    RETURN QUERY SELECT created.* FROM configuration_read(new_id) created;
END
$$;

CREATE FUNCTION configuration_lock(wanted text, author text, request text)
RETURNS TABLE (application_id text, application_name text, body text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_configuration_author(author, request);
    RETURN QUERY
    SELECT configuration.application_id::text, application.name::text,
           configuration_representation(configuration)
    FROM configurations configuration
    JOIN applications application ON application.id = configuration.application_id
    WHERE configuration.id = wanted
    FOR UPDATE OF configuration FOR SHARE OF application;
END
$$;

CREATE FUNCTION configuration_update(
    wanted text, new_name text, new_comments text, new_config jsonb, keep integer
)
RETURNS TABLE (id text, body text, revision integer, application_name text,
               recorded boolean, removed integer)
LANGUAGE plpgsql AS $$
DECLARE
    before integer;
    newest integer;
    trimmed integer := 0;
BEGIN
    SELECT max(kept.revision) INTO before
    FROM configuration_revisions kept WHERE kept.configuration_id = wanted;

    UPDATE configurations configuration
    SET name = new_name, comments = new_comments, config = new_config
    WHERE configuration.id = wanted
      AND (configuration.name, configuration.comments, configuration.config::text)
          IS DISTINCT FROM (new_name, new_comments, new_config::text);

    -- The trigger of 0007 has recorded the revision, if the UPDATE changed anything.
    SELECT max(kept.revision) INTO newest
    FROM configuration_revisions kept WHERE kept.configuration_id = wanted;
    IF keep > 0 THEN
        DELETE FROM configuration_revisions kept
        WHERE kept.configuration_id = wanted AND kept.revision <= newest - keep;
        GET DIAGNOSTICS trimmed = ROW_COUNT;
    END IF;

    RETURN QUERY
    SELECT written.id, written.body, written.revision, written.application_name,
           newest IS DISTINCT FROM before, trimmed
    FROM configuration_read(wanted) written;
END
$$;

-- A configuration's POST, and its PUT without If-Match, as one statement each that has the
-- same effect when sent twice, so that the service can send it in autocommit: PostgreSQL
-- runs it as a transaction of its own, one round trip instead of three (BEGIN, the call,
-- COMMIT), and a call whose connection is lost before its answer can be sent again, as a
-- read is (database.py). A PUT with If-Match still locks first (configuration_lock of 0009)
-- and compares the ETag in the service, in a transaction, then calls configuration_put.
--
-- What each write does is unchanged (0007 explains revisions, 0009 scope and locking):
-- * configuration_create takes the id the service chose once per request. Sent again after a
--   first call committed, the INSERT finds that id taken and does nothing, and the function
--   returns the configuration the first call created: one configuration, one revision 1.
-- * configuration_put does what configuration_lock and configuration_update of 0009 did in
--   two calls, less the If-Match check: it locks the configuration and its application, in
--   the caller's scope only (outside it, as if missing: no row); writes nothing when the body
--   names another application (its row then has no `body`, and the configuration's
--   `application_id`, for the service's 422); writes only when the representation changes;
--   trims to REVISIONS_KEEP on every PUT, as 0009 did (so one after changes made in psql
--   trims them); and returns the result. Whether the UPDATE changed the row is FOUND (0009
--   counted revisions before and after it). A replacement sent twice is applied once: the
--   second changes nothing, so records nothing.
--
-- configuration_update of 0009 is no longer called; it stays for instances of the previous
-- release during a rolling upgrade.

CREATE OR REPLACE FUNCTION configuration_create(
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
    FOR SHARE OF application
    ON CONFLICT ON CONSTRAINT configurations_pkey DO NOTHING;  -- (id): sent again
    -- No row when there is no such application in scope: the service answers the same for both.
    RETURN QUERY SELECT created.* FROM configuration_read(new_id) created;
END
$$;

CREATE FUNCTION configuration_put(
    wanted text, new_name text, new_comments text, new_config jsonb, sent_application text,
    keep integer, author text, request text, everything boolean, exact text[], prefixes text[]
)
RETURNS TABLE (id text, body text, revision integer, application_name text,
               application_id text, recorded boolean, removed integer)
LANGUAGE plpgsql AS $$
DECLARE
    owner text;
    owner_name text;
    changed boolean;
    trimmed integer := 0;
BEGIN
    PERFORM set_configuration_author(author, request);
    SELECT configuration.application_id, application.name INTO owner, owner_name
    FROM configurations configuration
    JOIN applications application ON application.id = configuration.application_id
    WHERE configuration.id = wanted
      AND application_in_scope(application.name, everything, exact, prefixes)
    FOR UPDATE OF configuration FOR SHARE OF application;
    IF NOT FOUND THEN
        RETURN;  -- no such configuration in scope: no row
    END IF;
    IF sent_application <> owner THEN  -- NULL (not sent) is never unequal
        RETURN QUERY SELECT wanted, NULL::text, NULL::integer, owner_name, owner, false, 0;
        RETURN;
    END IF;

    UPDATE configurations configuration
    SET name = new_name, comments = new_comments, config = new_config
    WHERE configuration.id = wanted
      AND (configuration.name, configuration.comments, configuration.config::text)
          IS DISTINCT FROM (new_name, new_comments, new_config::text);
    changed := FOUND;  -- and then the trigger of 0007 has recorded the revision

    IF keep > 0 THEN
        DELETE FROM configuration_revisions kept
        WHERE kept.configuration_id = wanted
          AND kept.revision <= (SELECT max(newest.revision) - keep
                                FROM configuration_revisions newest
                                WHERE newest.configuration_id = wanted);
        GET DIAGNOSTICS trimmed = ROW_COUNT;
    END IF;

    RETURN QUERY
    SELECT written.id, written.body, written.revision, written.application_name, owner,
           changed, trimmed
    FROM configuration_read(wanted) written;
END
$$;

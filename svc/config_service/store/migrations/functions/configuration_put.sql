-- PUT /configurations/{id} as one statement (configurations/commands.py): without If-Match
-- the service sends it alone in autocommit (a replacement sent twice is applied once: the
-- second changes nothing, so records nothing); with If-Match, after configuration_lock.sql
-- in the same transaction.
--
-- It locks the configuration and its application, in the caller's scope only (outside it, as
-- if missing: no row); writes nothing when the body names another application (its row then
-- has no `body`, and the configuration's `application_id`, for the service's 422); updates
-- only when the representation changes (a PUT that changes nothing records no revision, sends
-- no notification, keeps its ETag; config compared as text, as it is rendered: jsonb calls 1
-- and 1.0 equal); and returns the result. Whether the UPDATE changed the row is FOUND.
--
-- The revision and its retention are the trigger's (record_configuration_revision.sql), as for
-- any writer; `removed` is what the trigger says it deleted. `keep` is read no more: retention
-- follows REVISIONS_KEEP as the database holds it (migration 0013). The parameter stays so
-- that instances of the release before, which pass it, go on calling this function during a
-- rolling upgrade (docs/operations.md); the service passes NULL.
CREATE OR REPLACE FUNCTION configuration_put(
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

    PERFORM set_config('config_service.revisions_removed', '0', true);
    UPDATE configurations configuration
    SET name = new_name, comments = new_comments, config = new_config
    WHERE configuration.id = wanted
      AND (configuration.name, configuration.comments, configuration.config::text)
          IS DISTINCT FROM (new_name, new_comments, new_config::text);
    changed := FOUND;  -- and then the trigger has recorded the revision, and trimmed

    RETURN QUERY
    SELECT written.id, written.body, written.revision, written.application_name, owner,
           changed, current_setting('config_service.revisions_removed')::integer
    FROM configuration_read(wanted) written;
END
$$;

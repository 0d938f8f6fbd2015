-- POST /configurations as one statement (configurations/commands.py): insert into an
-- existing application of the caller's scope only, so that a name taken in an application
-- out of scope is not revealed; lock that application FOR SHARE, so that a concurrent rename
-- waits and the name that decided scope is the one kept. Who writes is set first
-- (set_configuration_author.sql); the revision trigger records revision 1.
--
-- It has the same effect when sent twice, so the service sends it in autocommit (one round
-- trip, and sent again when its connection is lost before the answer): the id is chosen once
-- per request, and sent again after a first call committed, the INSERT finds that id taken,
-- does nothing, and the function returns the configuration the first call created.
--
-- A plpgsql function, not the statements sent as text, so that PostgreSQL keeps their plans
-- for the life of the connection (configuration_read.sql says why that matters).
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

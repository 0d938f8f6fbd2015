-- The first call of a PUT with If-Match (configurations/commands.py), in its transaction:
-- lock the configuration's row (a concurrent editor waits, then sees this edit) and its
-- application FOR SHARE (a rename waits: the name that decides scope is the one kept), and
-- return the representation that If-Match is compared with. The service compares the ETag
-- and the scope between this call and configuration_put, since the ETag is a hash PostgreSQL
-- does not have (blake2b). Who writes is set first (set_configuration_author.sql).
CREATE OR REPLACE FUNCTION configuration_lock(wanted text, author text, request text)
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

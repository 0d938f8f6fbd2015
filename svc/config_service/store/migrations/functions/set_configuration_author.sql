-- Who writes, for the revision trigger (record_configuration_revision.sql): the token's name
-- (empty without tokens) and the request's id, as two transaction-local settings. They end
-- with the transaction (set_config(…, true)), so they are safe through PgBouncer in
-- transaction mode, where a session-level SET would leak to the next client of the
-- connection. The write functions call it before they write anything.
CREATE OR REPLACE FUNCTION set_configuration_author(author text, request text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    SELECT set_config('config_service.changed_by', author, true),
           set_config('config_service.request_id', request, true)
$$;

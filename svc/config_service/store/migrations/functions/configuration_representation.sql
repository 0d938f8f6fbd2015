-- A configuration's JSON text, the one renderer: the GET (configuration_read.sql) and the
-- revision trigger (record_configuration_revision.sql) both call it, so the bytes of a
-- current GET and of its revision cannot drift apart (configurations/revisions_test.py
-- compares them). The row type configuration_fields (migration 0007) names the fields and
-- their order; row_to_json of it gives the same bytes as the sub-select GET used before
-- revisions existed, so no ETag a client holds changed. STABLE, as row_to_json is, so
-- PostgreSQL inlines it into the queries that call it. The trigger's WHEN clause (0007) calls
-- it too: its text is what "the representation changed" means.
CREATE OR REPLACE FUNCTION configuration_representation(configuration configurations)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT row_to_json(ROW(configuration.id, configuration.application_id, configuration.name,
                           configuration.comments, configuration.config
                       )::configuration_fields)::text
$$;

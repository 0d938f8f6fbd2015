-- Trigger function (AFTER INSERT, UPDATE or DELETE ON configuration_schemas, migration 0014):
-- a configuration's attachment is part of its representation (the describedby Link and the
-- ETag), so its change is announced as a change of the configuration, with the key the read
-- model names it by (keys.py; notify_configuration_changed.sql).
CREATE OR REPLACE FUNCTION notify_configuration_schema_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed',
                      'configuration:' || COALESCE(NEW.configuration_id, OLD.configuration_id));
    RETURN NULL;
END
$$;

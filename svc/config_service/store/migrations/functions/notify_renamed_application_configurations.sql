-- Trigger function (AFTER UPDATE OF name ON applications, when the name changes, migration
-- 0006). A token's scope is decided by application name, and a configuration is in scope by
-- its application's name: a rename (through the API or in SQL) changes which tokens may read
-- the application's configurations, though their representations stay byte for byte the
-- same. So a rename also names every configuration of the application (keys.py
-- application_renamed), and each worker stops answering them from memory.
CREATE OR REPLACE FUNCTION notify_renamed_application_configurations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', 'configuration:' || c.id)
    FROM configurations c
    WHERE c.application_id = NEW.id;
    RETURN NULL;
END
$$;

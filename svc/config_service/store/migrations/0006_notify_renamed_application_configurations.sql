-- A token's scope is decided by application name, and a configuration is in scope by its
-- application's name: a rename (through the API or in SQL) changes which tokens may read the
-- application's configurations, though their representations stay byte for byte the same.
-- So a rename also names every configuration of the application (keys.py
-- application_renamed), and each worker stops answering them from memory.
CREATE FUNCTION notify_renamed_application_configurations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', 'configuration:' || c.id)
    FROM configurations c
    WHERE c.application_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER applications_notify_renamed
    AFTER UPDATE OF name ON applications
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION notify_renamed_application_configurations();

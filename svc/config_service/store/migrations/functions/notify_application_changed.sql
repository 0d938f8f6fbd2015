-- Trigger function (AFTER INSERT OR UPDATE OR DELETE ON applications, migration 0003): tell
-- every listening service instance which representation a committed change touched, so that
-- each stops answering it from memory (read_model/listener.py). A trigger catches every
-- change, one made by hand in psql included. The payload is the key the read model uses,
-- "application:<id>" (keys.py, which keys_test.py checks against these triggers); PostgreSQL
-- folds duplicates within a transaction and delivers them only when it commits.
-- (NEW is NULL on DELETE, OLD on INSERT.)
CREATE OR REPLACE FUNCTION notify_application_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', 'application:' || COALESCE(NEW.id, OLD.id));
    RETURN NULL;
END
$$;

-- Name what changed as the read model does, "application:<id>" or "configuration:<id>"
-- (read_model.py key_of), so an id can never be mistaken for the other resource's.
-- One notification per representation a change touches; PostgreSQL folds duplicates within
-- a transaction and delivers them only when it commits.
CREATE OR REPLACE FUNCTION notify_application_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', 'application:' || COALESCE(NEW.id, OLD.id));
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION notify_configuration_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', 'configuration:' || COALESCE(NEW.id, OLD.id));
    -- An application's representation lists its configuration ids.
    PERFORM pg_notify('representation_changed',
                      'application:' || COALESCE(NEW.application_id, OLD.application_id));
    IF TG_OP = 'UPDATE' AND OLD.application_id IS DISTINCT FROM NEW.application_id THEN
        PERFORM pg_notify('representation_changed', 'application:' || OLD.application_id);
    END IF;
    RETURN NULL;
END
$$;

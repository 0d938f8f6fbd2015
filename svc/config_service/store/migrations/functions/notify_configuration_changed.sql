-- Trigger function (AFTER INSERT OR UPDATE OR DELETE ON configurations, migration 0003): the
-- configuration's key, and its application's, whose representation lists its configuration
-- ids (keys.py names them; notify_application_changed.sql says why a trigger).
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

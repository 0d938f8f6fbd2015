-- Tell every listening service instance which representations a committed change touched,
-- so that each can forget the ETags it remembers for them (see revalidation.py). Triggers
-- catch every change, one made by hand in psql included. The payload is the id whose
-- representation changed. (NEW is NULL on DELETE and OLD on INSERT.)
CREATE FUNCTION notify_application_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', COALESCE(NEW.id, OLD.id));
    RETURN NULL;
END
$$;

CREATE FUNCTION notify_configuration_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', COALESCE(NEW.id, OLD.id));
    -- An application's representation lists its configuration ids.
    PERFORM pg_notify('representation_changed', COALESCE(NEW.application_id, OLD.application_id));
    IF OLD.application_id IS DISTINCT FROM NEW.application_id AND TG_OP = 'UPDATE' THEN
        PERFORM pg_notify('representation_changed', OLD.application_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER applications_notify_changed
    AFTER INSERT OR UPDATE OR DELETE ON applications
    FOR EACH ROW EXECUTE FUNCTION notify_application_changed();

CREATE TRIGGER configurations_notify_changed
    AFTER INSERT OR UPDATE OR DELETE ON configurations
    FOR EACH ROW EXECUTE FUNCTION notify_configuration_changed();

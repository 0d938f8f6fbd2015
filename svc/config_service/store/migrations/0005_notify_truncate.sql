-- TRUNCATE fires no row-level trigger: say that any representation may have changed, with the
-- key '*' (read_model.py EVERYTHING), once per statement.
CREATE FUNCTION notify_everything_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER applications_notify_truncated
    AFTER TRUNCATE ON applications
    FOR EACH STATEMENT EXECUTE FUNCTION notify_everything_changed();

CREATE TRIGGER configurations_notify_truncated
    AFTER TRUNCATE ON configurations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_everything_changed();

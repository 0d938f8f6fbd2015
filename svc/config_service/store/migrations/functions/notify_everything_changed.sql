-- Trigger function (AFTER TRUNCATE ON applications and on configurations, once per statement,
-- migration 0005): TRUNCATE fires no row-level trigger, so say that any representation may
-- have changed, with the key '*' (keys.py EVERYTHING).
CREATE OR REPLACE FUNCTION notify_everything_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed', '*');
    RETURN NULL;
END
$$;

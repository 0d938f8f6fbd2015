-- Trigger function (AFTER INSERT, UPDATE or DELETE ON configuration_rollouts, migration 0015):
-- a rollout decides what the configuration's URL answers to whom, so its change is announced
-- as a change of the configuration, with the key the read model names it by (keys.py).
CREATE OR REPLACE FUNCTION notify_configuration_rollout_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed',
                      'configuration:' || COALESCE(NEW.configuration_id, OLD.configuration_id));
    RETURN NULL;
END
$$;

-- Trigger function (AFTER INSERT, UPDATE or DELETE ON configuration_rollouts, migration 0015):
-- a rollout decides what the configuration's URL answers to whom, so its change is announced
-- as a change of the configuration, with the key the read model names it by (keys.py), and
-- of its application, whose view with its configurations serves each cohort its candidate
-- (applications/queries.py; keys.views_of).
CREATE OR REPLACE FUNCTION notify_configuration_rollout_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed text := COALESCE(NEW.configuration_id, OLD.configuration_id);
    owner text;
BEGIN
    PERFORM pg_notify('representation_changed', 'configuration:' || changed);
    SELECT configuration.application_id INTO owner
    FROM configurations configuration WHERE configuration.id = changed;
    IF owner IS NOT NULL THEN  -- none when the configuration is being deleted (cascade)
        PERFORM pg_notify('representation_changed', 'application:' || owner);
    END IF;
    RETURN NULL;
END
$$;

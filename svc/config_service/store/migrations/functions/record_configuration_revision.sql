-- Trigger function (AFTER INSERT ON configurations, and AFTER UPDATE when the representation
-- changed: migration 0007 made the triggers and the configuration_revisions table): the change
-- is the configuration's next revision. What a revision is, who and when, and retention:
-- configuration_record_revision.sql.
CREATE OR REPLACE FUNCTION record_configuration_revision() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM configuration_record_revision(NEW.id, configuration_representation(NEW));
    RETURN NULL;
END
$$;

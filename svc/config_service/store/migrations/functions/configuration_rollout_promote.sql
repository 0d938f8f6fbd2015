-- Promote the running candidate `candidate` of configuration `wanted` (migration 0015): its
-- fields are written into the configuration's row as that same revision (the revision
-- trigger records nothing while `config_service.promoting` names it:
-- configuration_record_revision.sql), so it is the current version for everyone, with the
-- bytes, ETag and revision number its cohort already had. `ender`: the token's name, or
-- 'automatic' when the schedule reached 100% (configuration_rollout_steps.sql). The caller
-- holds the configuration's lock.
CREATE OR REPLACE FUNCTION configuration_rollout_promote(wanted text, candidate integer,
                                                         ender text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    promoted configuration_rollouts%ROWTYPE;
BEGIN
    UPDATE configuration_rollouts rollout
    SET state = 'promoted', percent = 100, next_step_at = NULL,
        ended_at = clock_timestamp(), ended_by = ender
    WHERE rollout.configuration_id = wanted AND rollout.revision = candidate
      AND rollout.state = 'running'
    RETURNING rollout.* INTO promoted;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    PERFORM set_config('config_service.promoting', wanted, true);
    UPDATE configurations configuration
    SET name = promoted.name, comments = promoted.comments, config = promoted.config
    WHERE configuration.id = wanted;
    PERFORM set_config('config_service.promoting', '', true);
END
$$;

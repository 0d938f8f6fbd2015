-- `Config-Rejected: <revision>` from client `rejecting` (configurations/rejections.py,
-- migration 0015; docs/rollouts.md): counted once per distinct client of the running
-- candidate `rejected`, in the caller's scope only. The service has checked that the client
-- is in the candidate's cohort (the hash is the service's: representation.py); a report for
-- a revision that is not the running candidate changes nothing. When `max_failures` distinct
-- clients have rejected it, the rollout is aborted, by 'automatic', in the same transaction.
--
-- The rollout's row is locked first, so that concurrent reports count one after the other
-- and exactly one of them aborts. `counted`: whether this report was new; `aborted`: whether
-- it ended the rollout; `rejections`: the distinct clients so far.
CREATE OR REPLACE FUNCTION configuration_rollout_reject(
    wanted text, rejected integer, rejecting text,
    everything boolean, exact text[], prefixes text[]
)
RETURNS TABLE (counted boolean, aborted boolean, rejections integer)
LANGUAGE plpgsql AS $$
DECLARE
    running configuration_rollouts%ROWTYPE;
    was_counted boolean;
    so_far integer;
BEGIN
    SELECT rollout.* INTO running
    FROM configuration_rollouts rollout
    JOIN configurations configuration ON configuration.id = rollout.configuration_id
    JOIN applications application ON application.id = configuration.application_id
    WHERE rollout.configuration_id = wanted AND rollout.revision = rejected
      AND rollout.state = 'running'
      AND application_in_scope(application.name, everything, exact, prefixes)
    FOR UPDATE OF rollout;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, false, 0;
        RETURN;
    END IF;
    INSERT INTO configuration_rollout_rejections (configuration_id, revision, client)
    VALUES (wanted, rejected, rejecting)
    ON CONFLICT DO NOTHING;
    was_counted := FOUND;
    SELECT count(*) INTO so_far FROM configuration_rollout_rejections rejection
    WHERE rejection.configuration_id = wanted AND rejection.revision = rejected;
    IF running.max_failures IS NOT NULL AND so_far >= running.max_failures THEN
        UPDATE configuration_rollouts rollout
        SET state = 'aborted', next_step_at = NULL, ended_at = clock_timestamp(),
            ended_by = 'automatic'
        WHERE rollout.configuration_id = wanted AND rollout.revision = rejected;
        RETURN QUERY SELECT was_counted, true, so_far;
        RETURN;
    END IF;
    RETURN QUERY SELECT was_counted, false, so_far;
END
$$;

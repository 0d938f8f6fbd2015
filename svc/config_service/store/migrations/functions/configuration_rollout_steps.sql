-- The schedule (`Config-Rollout: p;step=s;every=t`, migration 0015; docs/rollouts.md): take
-- every step that is due, each once, whichever instance or worker calls it
-- (configurations/schedule.py calls it every quarter second). A due rollout is claimed with
-- its configuration, FOR UPDATE SKIP LOCKED: another caller, or a PUT changing it, holds
-- its locks, so it is left to them, and re-checked against its new next_step_at once they
-- commit; nothing waits, so nothing deadlocks with a PUT (which locks the configuration, then
-- the rollout).
--
-- A step raises the percentage by `step`, capped at 100, which promotes the candidate
-- (configuration_rollout_promote.sql, ended_by 'automatic'). The next step is due `every`
-- seconds after this one was due, or, when this one was taken late (every instance was
-- down), `every` seconds from now: one step at once, never a burst. Returns each step taken.
CREATE OR REPLACE FUNCTION configuration_rollout_steps()
RETURNS TABLE (configuration_id text, revision integer, percent integer)
LANGUAGE plpgsql AS $$
DECLARE
    due record;
    stepped integer;
    now_at timestamptz := clock_timestamp();
BEGIN
    FOR due IN
        SELECT rollout.configuration_id, rollout.revision, rollout.percent, rollout.step,
               rollout.every, rollout.next_step_at
        FROM configuration_rollouts rollout
        JOIN configurations configuration ON configuration.id = rollout.configuration_id
        WHERE rollout.state = 'running' AND rollout.next_step_at <= now_at
        ORDER BY rollout.next_step_at
        LIMIT 100
        FOR UPDATE OF rollout, configuration SKIP LOCKED
    LOOP
        stepped := least(due.percent + due.step, 100);
        IF stepped = 100 THEN
            BEGIN
                PERFORM configuration_rollout_promote(due.configuration_id, due.revision,
                                                      'automatic');
            EXCEPTION WHEN unique_violation THEN
                -- The candidate's name was taken meanwhile: the schedule pauses where it is
                -- (a PUT promotes it, or says why not), rather than fail every call.
                UPDATE configuration_rollouts rollout SET next_step_at = NULL
                WHERE rollout.configuration_id = due.configuration_id
                  AND rollout.revision = due.revision;
                CONTINUE;
            END;
        ELSE
            UPDATE configuration_rollouts rollout
            SET percent = stepped,
                next_step_at = CASE
                    WHEN due.next_step_at + make_interval(secs => due.every) > now_at
                    THEN due.next_step_at + make_interval(secs => due.every)
                    ELSE now_at + make_interval(secs => due.every) END
            WHERE rollout.configuration_id = due.configuration_id
              AND rollout.revision = due.revision;
        END IF;
        configuration_id := due.configuration_id;
        revision := due.revision;
        percent := stepped;
        RETURN NEXT;
    END LOOP;
END
$$;

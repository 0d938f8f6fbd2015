-- PUT /configurations/{id} with `Config-Rollout: p` (configurations/rollouts.py, migration
-- 0015; docs/rollouts.md), in the transaction that checked If-Match. In the caller's scope
-- only (outside it, as if missing: no row); `checked` is what the service checked against
-- schemas, as for configuration_put_checked.sql (a new candidate is validated like any write).
--
-- With no candidate running, p in 1..99 starts one: it takes the next revision number at once
-- (recorded by configuration_record_revision.sql, which never removes the current revision
-- nor a running candidate), and the configuration's row keeps the current version. With one
-- running: the candidate's body and p in 1..99 changes the percentage (and the schedule: no
-- `step` pauses it); another body replaces the candidate (a new revision; the replaced one
-- recorded as such); 100 promotes it (configuration_rollout_promote.sql); 0 aborts it.
--
-- `outcome` says what happened, or why nothing was: `other-application` (the body names
-- another application), `no-rollout` (0 or 100 with none running), `not-the-candidate` (0 or
-- 100 with another body), `same-as-current` (a candidate identical to the current version),
-- `required` (schemas to check first, in `required`). The answer's columns are those of a
-- GET (configuration_read_described.sql) and of its candidate (configuration_candidate.sql).
CREATE OR REPLACE FUNCTION configuration_rollout_put(
    checked text, wanted text, new_name text, new_comments text, new_config jsonb,
    sent_application text, new_percent integer, new_step integer, new_every integer,
    new_max_failures integer, author text, request text,
    everything boolean, exact text[], prefixes text[]
)
RETURNS TABLE (id text, body text, revision integer, application_name text,
               described_by text, application_id text, candidate_revision integer,
               candidate_percent integer, candidate_body text, candidate_described_by text,
               outcome text, required text, recorded boolean, removed integer)
LANGUAGE plpgsql AS $$
DECLARE
    current_row configurations%ROWTYPE;
    candidate_row configurations%ROWTYPE;
    running configuration_rollouts%ROWTYPE;
    has_running boolean;
    same_as_candidate boolean;
    attached configuration_schemas%ROWTYPE;
    needed text;
    result text;
    next_revision integer;
    was_recorded boolean := false;
    ender text;
BEGIN
    SELECT configuration.* INTO current_row
    FROM configurations configuration
    JOIN applications application ON application.id = configuration.application_id
    WHERE configuration.id = wanted
      AND application_in_scope(application.name, everything, exact, prefixes)
    FOR UPDATE OF configuration FOR SHARE OF application;
    IF NOT FOUND THEN
        RETURN;  -- no such configuration in scope: no row
    END IF;
    IF sent_application <> current_row.application_id THEN  -- NULL (not sent) never unequal
        result := 'other-application';
    END IF;
    PERFORM set_configuration_author(author, request);
    ender := NULLIF(current_setting('config_service.changed_by', true), '');

    SELECT rollout.* INTO running FROM configuration_rollouts rollout
    WHERE rollout.configuration_id = wanted AND rollout.state = 'running' FOR UPDATE;
    has_running := FOUND;
    same_as_candidate := has_running AND (running.name, running.comments, running.config::text)
                         = (new_name, new_comments, new_config::text);
    IF result IS NOT NULL THEN
        NULL;
    ELSIF new_percent IN (0, 100) AND NOT has_running THEN
        result := 'no-rollout';
    ELSIF new_percent IN (0, 100) AND NOT same_as_candidate THEN
        result := 'not-the-candidate';
    ELSIF NOT has_running AND (current_row.name, current_row.comments, current_row.config::text)
                              = (new_name, new_comments, new_config::text) THEN
        result := 'same-as-current';
    ELSIF NOT same_as_candidate THEN
        SELECT * INTO attached FROM configuration_schemas link
        WHERE link.configuration_id = wanted;
        needed := configuration_checks(wanted, attached.schema_id, attached.schema_revision);
        IF needed <> checked THEN
            result := 'required';
        END IF;
    END IF;
    IF result IS NOT NULL THEN
        RETURN QUERY SELECT wanted, NULL::text, NULL::integer, NULL::text, NULL::text,
                            current_row.application_id::text, NULL::integer, NULL::integer,
                            NULL::text, NULL::text, result, needed, false, 0;
        RETURN;
    END IF;

    PERFORM set_config('config_service.revisions_removed', '0', true);
    IF same_as_candidate AND new_percent = 100 THEN
        PERFORM configuration_rollout_promote(wanted, running.revision, ender);
        result := 'promoted';
    ELSIF same_as_candidate AND new_percent = 0 THEN
        UPDATE configuration_rollouts rollout
        SET state = 'aborted', next_step_at = NULL, ended_at = clock_timestamp(), ended_by = ender
        WHERE rollout.configuration_id = wanted AND rollout.revision = running.revision;
        result := 'aborted';
    ELSIF same_as_candidate THEN
        UPDATE configuration_rollouts rollout
        SET percent = new_percent, step = new_step, every = new_every,
            next_step_at = clock_timestamp() + make_interval(secs => new_every),
            max_failures = COALESCE(new_max_failures, rollout.max_failures)
        WHERE rollout.configuration_id = wanted AND rollout.revision = running.revision;
        result := 'changed';
    ELSE
        IF has_running THEN
            UPDATE configuration_rollouts rollout
            SET state = 'replaced', next_step_at = NULL,
                ended_at = clock_timestamp(), ended_by = ender
            WHERE rollout.configuration_id = wanted AND rollout.revision = running.revision;
            result := 'replaced';
        ELSE
            result := 'started';
        END IF;
        -- The candidate's row first, so that retention, run as it is recorded, knows it.
        SELECT COALESCE(max(kept.revision), 0) + 1 INTO next_revision
        FROM configuration_revisions kept WHERE kept.configuration_id = wanted;
        INSERT INTO configuration_rollouts
            (configuration_id, revision, percent, name, comments, config, step, every,
             next_step_at, max_failures)
        VALUES (wanted, next_revision, new_percent, new_name, new_comments, new_config,
                new_step, new_every, clock_timestamp() + make_interval(secs => new_every),
                COALESCE(new_max_failures, running.max_failures));
        candidate_row := current_row;
        candidate_row.name := new_name;
        candidate_row.comments := new_comments;
        candidate_row.config := new_config;
        PERFORM configuration_record_revision(wanted, configuration_representation(candidate_row));
        was_recorded := true;
    END IF;

    RETURN QUERY
    SELECT written.id, written.body, written.revision, written.application_name,
           written.described_by, current_row.application_id::text,
           candidate.candidate_revision, candidate.candidate_percent, candidate.candidate_body,
           candidate.candidate_described_by, result, NULL::text, was_recorded,
           current_setting('config_service.revisions_removed')::integer
    FROM configuration_read_described(wanted) written
    LEFT JOIN configuration_candidate(wanted) candidate ON true;
END
$$;

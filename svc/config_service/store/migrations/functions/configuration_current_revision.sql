-- The number of a configuration's current revision: its newest revision that is not a
-- candidate still running, aborted or replaced (migration 0015). A promoted candidate is the
-- current version with the same number; a candidate takes its number when it starts, so the
-- newest revision is not always the current one.
CREATE OR REPLACE FUNCTION configuration_current_revision(wanted text)
RETURNS integer
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
        SELECT max(kept.revision) FROM configuration_revisions kept
        WHERE kept.configuration_id = wanted
          AND NOT EXISTS (SELECT FROM configuration_rollouts candidate
                          WHERE candidate.configuration_id = wanted
                            AND candidate.revision = kept.revision
                            AND candidate.state <> 'promoted'));
END
$$;

-- A configuration's running candidate, if any (migration 0015): its revision, percentage,
-- bytes and schema link as recorded, for the read model to serve to its cohort
-- (configurations/queries.py) and for the rollout writes to compare If-Match with.
CREATE OR REPLACE FUNCTION configuration_candidate(wanted text)
RETURNS TABLE (candidate_revision integer, candidate_percent integer, candidate_body text,
               candidate_described_by text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT rollout.revision, rollout.percent, kept.body, kept.described_by
    FROM configuration_rollouts rollout
    JOIN configuration_revisions kept
      ON kept.configuration_id = rollout.configuration_id AND kept.revision = rollout.revision
    WHERE rollout.configuration_id = wanted AND rollout.state = 'running';
END
$$;

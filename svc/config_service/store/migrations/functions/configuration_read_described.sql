-- GET /configurations/{id} (configurations/queries.py): configuration_read.sql and the
-- configuration's attachment, in one call. A function of its own rather than a column more in
-- configuration_read, so instances of the release before keep calling that one as it was
-- during a rolling upgrade.
CREATE OR REPLACE FUNCTION configuration_read_described(wanted text)
RETURNS TABLE (id text, body text, revision integer, application_name text, described_by text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT current.id, current.body, current.revision, current.application_name,
           configuration_described_by(wanted)
    FROM configuration_read(wanted) current;
END
$$;

-- PUT /configurations/{id} (configurations/commands.py), with what the service checked, and
-- maybe a new attachment (`relink`; `linked` NULL detaches). As configuration_create_checked,
-- nothing is written unless `checked` is what the write requires; then the attachment
-- changes, then configuration_put.sql writes the body. An attachment changed alone is
-- recorded as a revision of the same body (configuration_record_revision.sql).
CREATE OR REPLACE FUNCTION configuration_put_checked(
    checked text, relink boolean, linked text, pinned integer,
    wanted text, new_name text, new_comments text, new_config jsonb, sent_application text,
    author text, request text, everything boolean, exact text[], prefixes text[]
)
RETURNS TABLE (id text, body text, revision integer, application_name text,
               application_id text, recorded boolean, removed integer,
               described_by text, required text, refused text)
LANGUAGE plpgsql AS $$
DECLARE
    owner text;
    attached configuration_schemas%ROWTYPE;
    refusal text;
    needed text;
    relinked boolean := false;
    written record;
BEGIN
    SELECT configuration.application_id INTO owner
    FROM configurations configuration
    JOIN applications application ON application.id = configuration.application_id
    WHERE configuration.id = wanted
      AND application_in_scope(application.name, everything, exact, prefixes)
    FOR UPDATE OF configuration FOR SHARE OF application;
    IF NOT FOUND OR sent_application <> owner THEN
        -- Missing, or another application named: configuration_put answers both.
        RETURN QUERY SELECT put.*, NULL::text, NULL::text, NULL::text
        FROM configuration_put(wanted, new_name, new_comments, new_config, sent_application,
                               NULL, author, request, everything, exact, prefixes) put;
        RETURN;
    END IF;

    -- While a candidate runs, only a PUT with Config-Rollout changes the configuration
    -- (configuration_rollout_put.sql): the service answers 409 and says how to end it.
    IF EXISTS (SELECT FROM configuration_rollouts rollout
               WHERE rollout.configuration_id = wanted AND rollout.state = 'running') THEN
        RAISE EXCEPTION 'a rollout of configuration % is running', wanted
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    SELECT * INTO attached FROM configuration_schemas link WHERE link.configuration_id = wanted;
    IF NOT relink THEN
        linked := attached.schema_id;
        pinned := attached.schema_revision;
    ELSIF linked IS NOT NULL THEN
        refusal := configuration_link_refusal(wanted, linked, pinned, everything, exact, prefixes);
    END IF;
    IF refusal IS NOT NULL THEN
        RETURN QUERY SELECT wanted, NULL::text, NULL::integer, NULL::text, owner, false, 0,
                            NULL::text, NULL::text, refusal;
        RETURN;
    END IF;
    needed := configuration_checks(wanted, linked, pinned);
    IF needed <> checked THEN
        RETURN QUERY SELECT wanted, NULL::text, NULL::integer, NULL::text, owner, false, 0,
                            NULL::text, needed, NULL::text;
        RETURN;
    END IF;

    IF relink AND linked IS NULL THEN
        DELETE FROM configuration_schemas link WHERE link.configuration_id = wanted;
        relinked := FOUND;
    ELSIF relink AND (attached.schema_id, attached.schema_revision)
                     IS DISTINCT FROM (linked, pinned) THEN
        INSERT INTO configuration_schemas (configuration_id, schema_id, schema_revision)
        VALUES (wanted, linked, pinned)
        ON CONFLICT (configuration_id) DO UPDATE
        SET schema_id = EXCLUDED.schema_id, schema_revision = EXCLUDED.schema_revision;
        relinked := true;
    END IF;

    SELECT * INTO written
    FROM configuration_put(wanted, new_name, new_comments, new_config, sent_application,
                           NULL, author, request, everything, exact, prefixes);
    IF relinked AND NOT written.recorded THEN  -- the same body, another schema
        PERFORM configuration_record_revision(wanted, written.body);
        written.revision := written.revision + 1;
        written.recorded := true;
        written.removed := current_setting('config_service.revisions_removed')::integer;
    END IF;
    RETURN QUERY SELECT written.id, written.body, written.revision, written.application_name,
                        written.application_id, written.recorded, written.removed,
                        configuration_described_by(wanted), NULL::text, NULL::text;
END
$$;

-- POST /configurations (configurations/commands.py), with what the service checked. When
-- `checked` is not what the write requires (configuration_checks.sql), or the link is
-- refused, nothing is written and the row says why (`required`, `refused`): the service
-- checks that and sends the write again. Otherwise configuration_create.sql, and the
-- attachment with it, recorded in its revision 1. One statement, in autocommit.
CREATE OR REPLACE FUNCTION configuration_create_checked(
    checked text, linked text, pinned integer,
    new_id text, parent text, new_name text, new_comments text, new_config jsonb,
    author text, request text, everything boolean, exact text[], prefixes text[]
)
RETURNS TABLE (id text, body text, revision integer, application_name text,
               described_by text, required text, refused text)
LANGUAGE plpgsql AS $$
DECLARE
    refusal text;
    needed text := '';
    created record;
BEGIN
    IF linked IS NOT NULL THEN
        refusal := configuration_link_refusal(new_id, linked, pinned, everything, exact, prefixes);
        IF refusal IS NOT NULL THEN
            RETURN QUERY SELECT new_id, NULL::text, NULL::integer, NULL::text, NULL::text,
                                NULL::text, refusal;
            RETURN;
        END IF;
        needed := configuration_checks(new_id, linked, pinned);
    END IF;
    IF needed <> checked THEN
        RETURN QUERY SELECT new_id, NULL::text, NULL::integer, NULL::text, NULL::text, needed,
                            NULL::text;
        RETURN;
    END IF;

    SELECT * INTO created
    FROM configuration_create(new_id, parent, new_name, new_comments, new_config,
                              author, request, everything, exact, prefixes);
    IF NOT FOUND THEN
        RETURN;  -- no such application in scope
    END IF;
    IF linked IS NOT NULL THEN
        INSERT INTO configuration_schemas (configuration_id, schema_id, schema_revision)
        VALUES (new_id, linked, pinned)
        ON CONFLICT (configuration_id) DO NOTHING;  -- sent again
        UPDATE configuration_revisions first
        SET described_by = configuration_described_by(new_id)
        WHERE first.configuration_id = new_id AND first.revision = 1;
    END IF;
    RETURN QUERY SELECT created.id, created.body, created.revision, created.application_name,
                        configuration_described_by(new_id), NULL::text, NULL::text;
END
$$;

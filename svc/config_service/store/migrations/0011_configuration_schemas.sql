-- Schemas (docs/schemas.md): a configuration may be described by another, whose config is a
-- JSON Schema; every write of it through the API is validated against that schema first.
--
-- The attachment. One row per described configuration: the schema it follows, and the
-- revision of the schema it is pinned to (NULL: the schema's current revision). Sent and
-- answered as `Link: </api/v1/configurations/{schema_id}[?revision=N]>; rel="describedby"`;
-- stored and recorded as `{schema_id}[?revision=N]`, the path's prefix being the service's.
-- The two tables the user specified stay as they are.
CREATE TABLE configuration_schemas (
    configuration_id varchar(26) PRIMARY KEY REFERENCES configurations (id) ON DELETE CASCADE,
    schema_id        varchar(26) NOT NULL REFERENCES configurations (id),
    schema_revision  integer CHECK (schema_revision > 0),
    CHECK (schema_id <> configuration_id)
);
CREATE INDEX configuration_schemas_by_schema ON configuration_schemas (schema_id);

-- A revision records the attachment it was made under, so `?revision=N` answers the link it
-- had then, and an attachment changed alone (same body) is a revision of its own: who attached
-- what, and when, is in ?history like a change of the body.
ALTER TABLE configuration_revisions ADD COLUMN described_by text;

CREATE FUNCTION configuration_described_by(described text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT link.schema_id || COALESCE('?revision=' || link.schema_revision, '')
    FROM configuration_schemas link
    WHERE link.configuration_id = described
$$;

-- Whoever records a revision (the trigger of 0007, or an attachment change below), it gets
-- the attachment in force.
CREATE FUNCTION record_revision_described_by() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.described_by := configuration_described_by(NEW.configuration_id);
    RETURN NEW;
END
$$;

CREATE TRIGGER configuration_revisions_described_by
    BEFORE INSERT ON configuration_revisions
    FOR EACH ROW EXECUTE FUNCTION record_revision_described_by();

-- An attachment is part of the configuration's representation (its Link header and ETag):
-- a change of it is announced like a change of the configuration (0004's names).
CREATE FUNCTION notify_configuration_schema_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('representation_changed',
                      'configuration:' || COALESCE(NEW.configuration_id, OLD.configuration_id));
    RETURN NULL;
END
$$;

CREATE TRIGGER configuration_schemas_notify
    AFTER INSERT OR UPDATE OR DELETE ON configuration_schemas
    FOR EACH ROW EXECUTE FUNCTION notify_configuration_schema_changed();

-- GET's read (0008) with the attachment. A function of its own, so instances of the previous
-- release keep calling configuration_read as it was during a rolling upgrade.
CREATE FUNCTION configuration_read_described(wanted text)
RETURNS TABLE (id text, body text, revision integer, application_name text, described_by text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY
    SELECT current.id, current.body, current.revision, current.application_name,
           configuration_described_by(wanted)
    FROM configuration_read(wanted) current;
END
$$;

-- What a write must have checked before it may commit, as the service names it: the schema it
-- validated the body against (`linked`), `{schema_id}@{revision}` ('' for none), then
-- `+followers` when other configurations follow this one (its new body must be a schema they
-- still satisfy). The schema's row is locked FOR SHARE first, so it cannot change until the
-- write commits; a schema's own write locks itself FOR UPDATE, so the two take turns.
CREATE FUNCTION configuration_checks(wanted text, linked text, pinned integer)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    required text := '';
BEGIN
    IF linked IS NOT NULL THEN
        PERFORM FROM configurations described WHERE described.id = linked FOR SHARE;
        required := linked || '@' || COALESCE(pinned, (
            SELECT max(kept.revision) FROM configuration_revisions kept
            WHERE kept.configuration_id = linked));
    END IF;
    IF EXISTS (SELECT FROM configuration_schemas follower WHERE follower.schema_id = wanted) THEN
        required := required || '+followers';
    END IF;
    RETURN required;
END
$$;

-- Why a link to the schema `linked` (pinned to a revision or not) cannot describe `wanted`:
-- 'missing' (no such configuration in the caller's scope, or no such revision of it: the same
-- answer), 'self', 'loop' (the schema is described, directly or not, by `wanted`); NULL when
-- it can.
CREATE FUNCTION configuration_link_refusal(
    wanted text, linked text, pinned integer, everything boolean, exact text[], prefixes text[]
)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF linked = wanted THEN
        RETURN 'self';
    END IF;
    IF NOT EXISTS (
        SELECT FROM configurations described
        JOIN applications application ON application.id = described.application_id
        WHERE described.id = linked
          AND application_in_scope(application.name, everything, exact, prefixes)
          AND (pinned IS NULL OR EXISTS (
                SELECT FROM configuration_revisions kept
                WHERE kept.configuration_id = linked AND kept.revision = pinned))
    ) THEN
        RETURN 'missing';
    END IF;
    IF EXISTS (
        WITH RECURSIVE chain (id) AS (
            SELECT linked
            UNION
            SELECT link.schema_id
            FROM configuration_schemas link JOIN chain ON link.configuration_id = chain.id
        )
        SELECT FROM chain WHERE chain.id = wanted
    ) THEN
        RETURN 'loop';
    END IF;
    RETURN NULL;
END
$$;

-- A configuration's POST with what it checked. When `checked` is not what the write requires
-- (configuration_checks), or the link is refused, nothing is written and the row says why
-- (`required`, `refused`); the service checks and sends it again. Otherwise as 0010's
-- configuration_create, and the attachment with it, recorded in its revision 1.
CREATE FUNCTION configuration_create_checked(
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

-- A configuration's PUT with what it checked, and maybe a new attachment (`relink`: `linked`
-- NULL detaches). As configuration_create_checked, nothing is written unless `checked` is what
-- the write requires; then the attachment changes, then 0010's configuration_put writes the
-- body. An attachment changed alone is recorded as a revision of the same body.
CREATE FUNCTION configuration_put_checked(
    checked text, relink boolean, linked text, pinned integer,
    wanted text, new_name text, new_comments text, new_config jsonb, sent_application text,
    keep integer, author text, request text, everything boolean, exact text[], prefixes text[]
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
                               keep, author, request, everything, exact, prefixes) put;
        RETURN;
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
                           keep, author, request, everything, exact, prefixes);
    IF relinked AND NOT written.recorded THEN
        PERFORM set_configuration_author(author, request);
        INSERT INTO configuration_revisions
            (configuration_id, revision, body, changed_at, changed_by, request_id)
        SELECT wanted, max(kept.revision) + 1, written.body, clock_timestamp(),
               NULLIF(author, ''), request
        FROM configuration_revisions kept WHERE kept.configuration_id = wanted;
        written.revision := written.revision + 1;
        written.recorded := true;
    END IF;
    RETURN QUERY SELECT written.id, written.body, written.revision, written.application_name,
                        written.application_id, written.recorded, written.removed,
                        configuration_described_by(wanted), NULL::text, NULL::text;
END
$$;

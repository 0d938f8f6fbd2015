-- Every committed change of a configuration, kept: its revisions (issue 17).
--
-- What a revision is. The representation exactly as a GET returned it while it was current
-- (`body`, so its ETag, a hash of those bytes, is the one it had then), numbered 1 at creation
-- and then +1 per change of that configuration, with when, who and which request.
--
-- One renderer. configuration_representation() builds a configuration's JSON text; the query
-- handlers' GET (configurations/queries.py) and the trigger below both call it, so the bytes
-- of a current GET and of its revision cannot drift apart (configurations/revisions_test.py
-- compares them). The row type names the fields and their order; row_to_json of it gives the
-- same bytes as the `row_to_json` of a sub-select that GET used before this migration, so no
-- ETag a client holds changes. STABLE, as row_to_json is, so PostgreSQL inlines it into the
-- queries that call it.
--
-- Recorded by a trigger, whoever changes the row: this API, psql, a migration. It runs in the
-- changing transaction, so a revision exists exactly when its change committed. Only an UPDATE
-- whose representation differs records one (the WHEN clause compares the rendered bytes, not
-- the row: jsonb compares 1 and 1.0 as equal, yet they render differently). The API does not
-- even UPDATE for a PUT that changes nothing, so neither this trigger nor the NOTIFY of 0003
-- fires and the ETag stays.
--
-- Numbering without gaps or duplicates. The number is max + 1 over the configuration's
-- revisions. Two writers of one configuration cannot both compute it at once: an UPDATE holds
-- the row's lock until it commits, so the second waits, and (READ COMMITTED) the trigger's
-- INSERT then takes a new snapshot that sees the first one's revision. (Under REPEATABLE READ
-- or SERIALIZABLE the second writer fails with a serialization error instead.) The primary key
-- would refuse a duplicate all the same. A new configuration starts at 1.
--
-- Who. The service sets two transaction-local settings in every write transaction,
-- `config_service.changed_by` (the token's name; empty without tokens) and
-- `config_service.request_id` (every API request has one), with set_config(…, true): they end
-- with the transaction, so they are safe through PgBouncer in transaction mode (a session-level
-- SET would leak to the next client of the connection). A change made with neither set (psql,
-- a migration) is recorded as `db:<role>`: token names are letters, digits, `.`, `_` and `-`
-- only, so a `:` can never be mistaken for one. (A setting once used in a session reads as ''
-- afterwards, hence NULLIF.)
--
-- When. clock_timestamp() at the change, not now() (the transaction's start): a writer that
-- waited for the row lock then gets a later time than the revision it waited for.
--
-- Retention. REVISIONS_KEEP per configuration is applied by the service's write path in the
-- same transaction (configurations/revisions.py): it deletes the revisions older than the
-- newest REVISIONS_KEEP, never the current one. A change made in psql removes nothing; the
-- configuration's next write through the API trims it back to the limit.
--
-- Deleting a configuration (psql; the API has no DELETE) deletes its revisions. TRUNCATE of
-- configurations now needs CASCADE, which empties the revisions too.

CREATE TYPE configuration_fields AS (
    id             text,
    application_id text,
    name           text,
    comments       text,
    config         jsonb
);

CREATE FUNCTION configuration_representation(configuration configurations) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT row_to_json(ROW(configuration.id, configuration.application_id, configuration.name,
                           configuration.comments, configuration.config
                       )::configuration_fields)::text
$$;

CREATE TABLE configuration_revisions (
    configuration_id varchar(26) NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
    revision         integer     NOT NULL CHECK (revision > 0),
    body             text        NOT NULL,
    changed_at       timestamptz NOT NULL DEFAULT now(),
    changed_by       text,
    request_id       text,
    PRIMARY KEY (configuration_id, revision)
);

-- No write may slip between the backfill's snapshot and the triggers below.
LOCK TABLE configurations IN SHARE ROW EXCLUSIVE MODE;

-- History starts here: each existing configuration's current state is its revision 1.
INSERT INTO configuration_revisions (configuration_id, revision, body, changed_by)
SELECT configuration.id, 1, configuration_representation(configuration), 'db:' || current_user
FROM configurations configuration;

CREATE FUNCTION record_configuration_revision() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    api_request_id text := NULLIF(current_setting('config_service.request_id', true), '');
BEGIN
    INSERT INTO configuration_revisions
        (configuration_id, revision, body, changed_at, changed_by, request_id)
    SELECT NEW.id,
           COALESCE(max(revision), 0) + 1,
           configuration_representation(NEW),
           clock_timestamp(),
           CASE WHEN api_request_id IS NULL THEN 'db:' || current_user
                ELSE NULLIF(current_setting('config_service.changed_by', true), '') END,
           api_request_id
    FROM configuration_revisions
    WHERE configuration_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER configurations_record_created
    AFTER INSERT ON configurations
    FOR EACH ROW EXECUTE FUNCTION record_configuration_revision();

CREATE TRIGGER configurations_record_changed
    AFTER UPDATE ON configurations
    FOR EACH ROW
    WHEN (configuration_representation(OLD) IS DISTINCT FROM configuration_representation(NEW))
    EXECUTE FUNCTION record_configuration_revision();

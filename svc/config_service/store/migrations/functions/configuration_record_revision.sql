-- Record a change of configuration `changed` as its next revision, with its representation
-- (`body`) and its attachment (configuration_described_by.sql), then apply REVISIONS_KEEP to
-- it. Called by the trigger of every change (record_configuration_revision.sql), and by
-- configuration_put_checked.sql for an attachment changed alone.
--
-- What a revision is. The representation exactly as a GET returned it while it was current
-- (configuration_representation.sql: `body`, so its ETag, a hash of those bytes, is the one it
-- had then), numbered 1 at creation and then +1 per change, with when, who and which request.
-- It runs in the changing transaction, whoever changes the row (this API, psql, a
-- migration), so a revision exists exactly when its change committed.
--
-- Numbering without gaps or duplicates. The number is max + 1 over the configuration's
-- revisions. Two writers of one configuration cannot both compute it at once: an UPDATE holds
-- the row's lock until it commits, so the second waits, and (READ COMMITTED) each statement
-- here takes a new snapshot, which sees the first one's revision. (Under REPEATABLE READ or
-- SERIALIZABLE the second writer fails with a serialization error instead.) The primary key
-- would refuse a duplicate all the same. A new configuration starts at 1.
--
-- Who. The write functions set two transaction-local settings (set_configuration_author.sql):
-- `config_service.changed_by` (the token's name; empty without tokens) and
-- `config_service.request_id` (every API request has one). A change made with neither set
-- (psql, a migration) is recorded as `db:<role>`: token names are letters, digits, `.`, `_`,
-- `@` and `-` only, never a `:` (access/tokens.py), so it cannot be mistaken for one. (A
-- setting once used in a session reads as '' afterwards, hence NULLIF.)
--
-- When. clock_timestamp() at the change, not now() (the transaction's start): a writer that
-- waited for the row lock then gets a later time than the revision it waited for.
--
-- Retention, for every writer (migration 0013; before it, only the API's PUT trimmed, so
-- changes made in psql, or racing the API's, could leave more; 0007's own comment still
-- says so, as applied files cannot change). revision_retention holds REVISIONS_KEEP, written
-- by the service when it migrates (store/retention.py); 0 keeps all. The revisions older than
-- the newest REVISIONS_KEEP are deleted, never the one just recorded nor one that another
-- configuration is pinned to as its schema (migration 0014). Race-free for the same
-- reason as the numbering: this runs under the changed row's lock, which every other writer
-- of the configuration waits for. How many were deleted is left in the transaction-local
-- setting `config_service.revisions_removed`, for configuration_put.sql to return (and the
-- service to count).
--
-- Rollouts (migration 0015). A candidate is recorded by configuration_rollout_put.sql before
-- the configuration's row changes; retention never deletes the current revision
-- (configuration_current_revision.sql) nor a running candidate. A promotion writes the
-- candidate's fields into the row with `config_service.promoting` set to its id: the change
-- is that candidate's revision, already recorded, so nothing is recorded again.
CREATE OR REPLACE FUNCTION configuration_record_revision(changed text, representation text)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    api_request_id text := NULLIF(current_setting('config_service.request_id', true), '');
    recorded integer;
    keep_newest integer;
    removed integer := 0;
BEGIN
    IF current_setting('config_service.promoting', true) = changed THEN
        RETURN;  -- a promotion: the candidate's revision is this change, recorded already
    END IF;
    INSERT INTO configuration_revisions
        (configuration_id, revision, body, changed_at, changed_by, request_id, described_by)
    SELECT changed,
           COALESCE(max(revision), 0) + 1,
           representation,
           clock_timestamp(),
           CASE WHEN api_request_id IS NULL THEN 'db:' || current_user
                ELSE NULLIF(current_setting('config_service.changed_by', true), '') END,
           api_request_id,
           configuration_described_by(changed)
    FROM configuration_revisions
    WHERE configuration_id = changed
    RETURNING revision INTO recorded;

    SELECT retention.keep INTO keep_newest FROM revision_retention retention;
    IF keep_newest > 0 THEN
        DELETE FROM configuration_revisions older
        WHERE older.configuration_id = changed AND older.revision <= recorded - keep_newest
          AND NOT EXISTS (SELECT FROM configuration_schemas pin
                          WHERE pin.schema_id = changed AND pin.schema_revision = older.revision)
          AND older.revision IS DISTINCT FROM configuration_current_revision(changed)
          AND NOT EXISTS (SELECT FROM configuration_rollouts candidate
                          WHERE candidate.configuration_id = changed
                            AND candidate.revision = older.revision
                            AND candidate.state = 'running');
        GET DIAGNOSTICS removed = ROW_COUNT;
    END IF;
    PERFORM set_config('config_service.revisions_removed', removed::text, true);
END
$$;

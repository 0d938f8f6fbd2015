-- REVISIONS_KEEP, held by the database, so that the revision trigger applies it to every
-- change, whoever writes (functions/record_configuration_revision.sql). Before, the API's PUT
-- trimmed the revisions in its own transaction: a change made in psql trimmed nothing, and
-- ten PUTs racing five psql UPDATEs could leave seven of five.
--
-- Why a table: the trigger must know the number in any writer's transaction. A
-- transaction-local setting passed by the service is not there in psql's; the number written
-- into a function's body would make a setting into DDL, a function re-created whenever
-- REVISIONS_KEEP changes. One row, read by one lookup per change, written by the service when
-- it migrates (store/retention.py), and readable by anyone: SELECT keep FROM
-- revision_retention. Until the service writes it, 0: every revision is kept.
CREATE TABLE revision_retention (
    single boolean     PRIMARY KEY DEFAULT true CHECK (single),  -- one row, never two
    keep   integer     NOT NULL CHECK (keep >= 0),                -- 0 keeps all
    set_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO revision_retention (keep) VALUES (0);

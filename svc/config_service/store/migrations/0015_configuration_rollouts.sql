-- Staged rollouts (issue 31, docs/rollouts.md): a candidate body served to a share of the
-- clients (`Config-Rollout: p` on a PUT) while everyone else keeps the current version.
--
-- One row per candidate: the revision number it took at once (its bytes are that revision in
-- configuration_revisions), the fields it would write when promoted, its percentage and
-- schedule, and how it ended. The two tables the user specified stay as they are: the
-- configuration's row holds the current version until a promotion writes the candidate's
-- fields into it (functions/configuration_rollout_put.sql).
--
-- The current revision is no longer max(revision): a running, aborted or replaced candidate
-- is newer than the current one (functions/configuration_current_revision.sql).
CREATE TABLE configuration_rollouts (
    configuration_id varchar(26)   NOT NULL REFERENCES configurations (id) ON DELETE CASCADE,
    revision         integer       NOT NULL CHECK (revision > 0),
    state            text          NOT NULL DEFAULT 'running'
                     CHECK (state IN ('running', 'promoted', 'replaced', 'aborted')),
    percent          integer       NOT NULL CHECK (percent BETWEEN 0 AND 100),
    name             varchar(256)  NOT NULL,
    comments         varchar(1024) NOT NULL,
    config           jsonb         NOT NULL,
    step             integer       CHECK (step BETWEEN 1 AND 100),
    every            integer       CHECK (every BETWEEN 1 AND 86400),
    next_step_at     timestamptz,
    max_failures     integer       CHECK (max_failures >= 1),
    started_at       timestamptz   NOT NULL DEFAULT clock_timestamp(),
    ended_at         timestamptz,
    ended_by         text,
    PRIMARY KEY (configuration_id, revision),
    CHECK ((step IS NULL) = (every IS NULL))
);
-- At most one running candidate per configuration, whoever writes.
CREATE UNIQUE INDEX configuration_rollouts_one_running
    ON configuration_rollouts (configuration_id) WHERE state = 'running';
-- The schedule's due steps, claimed by any instance.
CREATE INDEX configuration_rollouts_due
    ON configuration_rollouts (next_step_at) WHERE state = 'running' AND next_step_at IS NOT NULL;

-- The clients that reported they could not apply a candidate (`Config-Rejected`), one row per
-- distinct client: a client reporting twice counts once.
CREATE TABLE configuration_rollout_rejections (
    configuration_id varchar(26) NOT NULL,
    revision         integer     NOT NULL,
    client           text        NOT NULL,
    rejected_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (configuration_id, revision, client),
    FOREIGN KEY (configuration_id, revision)
        REFERENCES configuration_rollouts (configuration_id, revision) ON DELETE CASCADE
);

-- A rollout is part of what a configuration's URL answers (who gets which version): its
-- change is announced as a change of the configuration. Created empty here, for the trigger to
-- name; its body is functions/notify_configuration_rollout_changed.sql.
CREATE FUNCTION notify_configuration_rollout_changed() RETURNS trigger
LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;

CREATE TRIGGER configuration_rollouts_notify
    AFTER INSERT OR UPDATE OR DELETE ON configuration_rollouts
    FOR EACH ROW EXECUTE FUNCTION notify_configuration_rollout_changed();

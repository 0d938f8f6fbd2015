-- The migrations table records repeatable migrations too (store/migrations.py): the current
-- body of each SQL function, in a file of its own (functions/<name>.sql), applied after the
-- versioned files whenever its text is new. Such a row has no version: it is known by its
-- name and checksum, one row per body applied. Versions stay unique.
ALTER TABLE migrations DROP CONSTRAINT migrations_pkey;
ALTER TABLE migrations ALTER COLUMN version DROP NOT NULL;
ALTER TABLE migrations ADD CONSTRAINT migrations_version_key UNIQUE (version);

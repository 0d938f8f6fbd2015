-- Configurations belong to one application; a name is unique within its application.
CREATE TABLE configurations (
    id             varchar(26)   PRIMARY KEY,
    application_id varchar(26)   NOT NULL REFERENCES applications (id),
    name           varchar(256)  NOT NULL,
    comments       varchar(1024) NOT NULL DEFAULT '',
    config         jsonb         NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    CONSTRAINT configurations_application_id_name_key UNIQUE (application_id, name)
);

-- Serves an application's ordered list of configuration ids from the index alone.
CREATE INDEX configurations_application_id_id_idx ON configurations (application_id, id);

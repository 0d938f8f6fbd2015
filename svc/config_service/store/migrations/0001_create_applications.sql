-- Applications: ids are ULIDs in their canonical 26-character text form.
CREATE TABLE applications (
    id       varchar(26)   PRIMARY KEY,
    name     varchar(256)  NOT NULL UNIQUE,
    comments varchar(1024) NOT NULL DEFAULT ''
);

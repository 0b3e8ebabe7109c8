-- Times are Unix seconds; 0 means "none" (locked_until: not locked).
CREATE TABLE accounts (
    name          TEXT    NOT NULL PRIMARY KEY,
    skeleton      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created       INTEGER NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE issued (
    serial     TEXT    NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL REFERENCES accounts (name),
    not_before INTEGER NOT NULL,
    not_after  INTEGER NOT NULL,
    issued     INTEGER NOT NULL
) STRICT;

CREATE INDEX issued_name ON issued (name, issued);

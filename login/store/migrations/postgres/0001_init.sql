-- Times are Unix seconds; 0 means "none" (locked_until: not locked).
-- The constraint names are what CreateAccount tells ErrNameTaken from
-- ErrConfusable by.
CREATE TABLE accounts (
    name          TEXT    NOT NULL,
    skeleton      TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created       BIGINT  NOT NULL,
    failures      INTEGER NOT NULL DEFAULT 0,
    locked_until  BIGINT  NOT NULL DEFAULT 0,
    CONSTRAINT accounts_name_key PRIMARY KEY (name),
    CONSTRAINT accounts_skeleton_key UNIQUE (skeleton)
);

CREATE TABLE issued (
    serial     TEXT   NOT NULL,
    name       TEXT   NOT NULL REFERENCES accounts (name),
    not_before BIGINT NOT NULL,
    not_after  BIGINT NOT NULL,
    issued     BIGINT NOT NULL,
    CONSTRAINT issued_pkey PRIMARY KEY (serial)
);

CREATE INDEX issued_name ON issued (name, issued);

package store

import "database/sql"

// DB exposes a store's database to tests, to look at what the API does not
// read back (the issued log, schema_migrations).
func DB(s Store) *sql.DB { return s.(*sqlStore).db }

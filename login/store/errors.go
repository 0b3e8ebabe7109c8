package store

import "errors"

var (
	// ErrNotFound means there is no account with that name.
	ErrNotFound = errors.New("store: no such account")
	// ErrNameTaken means an account with the same normalized name exists.
	ErrNameTaken = errors.New("store: name taken")
	// ErrConfusable means another account has the same confusable skeleton,
	// so the new name would look like it.
	ErrConfusable = errors.New("store: name confusable with an existing one")
)

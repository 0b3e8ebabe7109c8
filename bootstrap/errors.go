package bootstrap

import "errors"

// ErrInvalidNetwork is wrapped by every error that says why a network file
// was refused.
var ErrInvalidNetwork = errors.New("invalid network file")

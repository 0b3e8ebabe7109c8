package profile

import "errors"

var (
	// ErrWrongPassword is returned when the identity key does not decrypt.
	ErrWrongPassword = errors.New("wrong password")
	// ErrNoProfile is returned when a folder holds no profile.
	ErrNoProfile = errors.New("no profile")
	// ErrExists is returned when creating a profile where one exists.
	ErrExists = errors.New("a profile already exists there")
	// ErrNoCertificate is returned before the first successful login.
	ErrNoCertificate = errors.New("no certificate yet: log in first")
	// ErrBadKeyFile wraps every reason a key file is refused.
	ErrBadKeyFile = errors.New("bad identity key file")
)

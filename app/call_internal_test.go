package app

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"soitto/media"
)

func TestSessionFailureReasons(t *testing.T) {
	id := fmt.Errorf("%w: remote certificate names \"mallory\", expected \"bob\"", media.ErrIdentity)
	if got := sessionFailure(id); !strings.HasPrefix(got, "identity mismatch: ") {
		t.Errorf("identity error: %q", got)
	}
	if got := sessionFailure(errors.New("media: no path to bob (ICE failed)")); !strings.HasPrefix(got, "media failed: ") {
		t.Errorf("ICE error: %q", got)
	}
}

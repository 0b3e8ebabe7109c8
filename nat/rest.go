package nat

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxTURNUsername bounds a TURN username the relay parses.
const MaxTURNUsername = 256

// RESTCredentials makes credentials in the TURN REST API format that
// coturn's use-auth-secret understands (draft-uberti-behave-turn-rest):
// username "EXPIRY:USER" (EXPIRY in Unix seconds), password
// base64(HMAC-SHA1(secret, username)).
func RESTCredentials(secret []byte, user string, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user
	return username, restPassword(secret, username)
}

func restPassword(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ParseRESTUsername splits a REST username into the user and the expiry.
func ParseRESTUsername(username string) (user string, expires time.Time, err error) {
	if len(username) > MaxTURNUsername {
		return "", time.Time{}, fmt.Errorf("nat: TURN username longer than %d bytes", MaxTURNUsername)
	}
	ts, user, ok := strings.Cut(username, ":")
	if !ok || user == "" {
		return "", time.Time{}, errors.New("nat: TURN username is not EXPIRY:USER")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 || sec > 1<<40 {
		return "", time.Time{}, fmt.Errorf("nat: TURN username expiry %q is not Unix seconds", ts)
	}
	return user, time.Unix(sec, 0), nil
}

package api

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeRegister(t *testing.T) {
	tests := []struct {
		body string
		code string // "" for success
	}{
		{`{"username":"alice","password":"password1"}`, ""},
		{`{"username":"alice","password":"password1"}` + "\n", ""},
		{`{"username":"alice"}`, CodeInvalidPassword},
		{`{"password":"password1"}`, CodeInvalidUsername},
		{`null`, CodeInvalidUsername},
		{`{"username":"alice","password":"password1","x":1}`, CodeBadRequest},
		{`{"username":"alice","password":"password1"}{}`, CodeBadRequest},
		{`{`, CodeBadRequest},
		{``, CodeBadRequest},
		{strings.Repeat(" ", MaxBody+1), CodeTooLarge},
	}
	for _, tt := range tests {
		_, err := DecodeRegister(strings.NewReader(tt.body))
		if got := codeOrEmpty(err); got != tt.code {
			t.Errorf("%.40q: got code %q (%v), want %q", tt.body, got, err, tt.code)
		}
	}
}

func TestCheckContentType(t *testing.T) {
	for v, ok := range map[string]bool{
		"application/json":                 true,
		"application/json; charset=utf-8":  true,
		"application/json; charset=UTF-8":  true,
		"application/json; charset=latin1": false,
		"text/plain":                       false,
		"":                                 false,
	} {
		if err := CheckContentType(v); (err == nil) != ok {
			t.Errorf("%q: got %v, want ok=%v", v, err, ok)
		}
	}
}

func TestErrorCodesRoundTrip(t *testing.T) {
	for code, c := range codes {
		if got := ErrorFor(code); got != c.err {
			t.Errorf("ErrorFor(%q) = %v, want %v", code, got, c.err)
		}
		if got := CodeOf(Refuse(code, "x")); got != code {
			t.Errorf("CodeOf(Refuse(%q)) = %q", code, got)
		}
		if got := CodeOf(c.err); got != code {
			t.Errorf("CodeOf(%v) = %q, want %q", c.err, got, code)
		}
		if !errors.Is(&Error{Code: code}, c.err) {
			t.Errorf("errors.Is(&Error{%q}, %v) is false", code, c.err)
		}
	}
	if ErrorFor("no such code") != ErrInternal {
		t.Error("an unknown code does not map to ErrInternal")
	}
}

func codeOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return CodeOf(err)
}

func FuzzDecodeRegister(f *testing.F) {
	f.Add([]byte(`{"username":"alice","password":"password1"}`))
	f.Add([]byte(`{"username":"ａｌｉｃｅ","password":"\u0000"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeRegister(strings.NewReader(string(body)))
		checkDecoded(t, err)
		if err == nil && (req.Username == "" || req.Password == "") {
			t.Fatalf("accepted a request with an empty field: %+v", req)
		}
	})
}

func FuzzDecodeLogin(f *testing.F) {
	f.Add([]byte(`{"username":"alice","password":"password1","public_key":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"}`))
	f.Add([]byte(`{"username":"alice","password":"password1","public_key":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeLogin(strings.NewReader(string(body)))
		checkDecoded(t, err)
		if err == nil && len(req.PublicKey) == 0 {
			t.Fatalf("accepted a login without a key: %+v", req)
		}
	})
}

func checkDecoded(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if e.Status < 400 || e.Status >= 500 {
		t.Fatalf("decoder error has status %d, want 4xx", e.Status)
	}
	if strings.Contains(e.Message, "\n") {
		t.Fatalf("message %q is not one line", e.Message)
	}
}

func FuzzDecodeNodeCert(f *testing.F) {
	f.Add([]byte(`{"certificate":"-----BEGIN CERTIFICATE-----","addr":"127.0.0.1:7600","public_key":"MFkw","time":1,"signature":"MEUC"}`))
	f.Add([]byte(`{"certificate":"x","addr":"","public_key":"","time":0,"signature":""}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeNodeCert(strings.NewReader(string(body)))
		checkDecoded(t, err)
		if err == nil && (req.Certificate == "" || req.Addr == "" || len(req.PublicKey) == 0 || len(req.Signature) == 0) {
			t.Fatalf("accepted an incomplete request: %+v", req)
		}
	})
}

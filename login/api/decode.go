package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// DecodeRegister reads a RegisterRequest from a body of at most MaxBody
// bytes. The returned error is an *Error.
func DecodeRegister(r io.Reader) (RegisterRequest, error) {
	var req RegisterRequest
	err := decode(r, &req)
	if err == nil && req.Username == "" {
		err = Refuse(CodeInvalidUsername, "username is missing")
	}
	if err == nil && req.Password == "" {
		err = Refuse(CodeInvalidPassword, "password is missing")
	}
	return req, err
}

// DecodeLogin reads a LoginRequest from a body of at most MaxBody bytes.
// The returned error is an *Error. The key is not parsed here.
func DecodeLogin(r io.Reader) (LoginRequest, error) {
	var req LoginRequest
	err := decode(r, &req)
	if err == nil && req.Username == "" {
		err = Refuse(CodeInvalidUsername, "username is missing")
	}
	if err == nil && req.Password == "" {
		err = Refuse(CodeInvalidPassword, "password is missing")
	}
	if err == nil && len(req.PublicKey) == 0 {
		err = Refuse(CodeInvalidKey, "public_key is missing")
	}
	return req, err
}

// DecodeNodeCert reads a NodeCertRequest from a body of at most MaxBody
// bytes. The returned error is an *Error; nothing is verified here.
func DecodeNodeCert(r io.Reader) (NodeCertRequest, error) {
	var req NodeCertRequest
	err := decode(r, &req)
	switch {
	case err != nil:
	case req.Certificate == "":
		err = Refuse(CodeBadRequest, "certificate is missing")
	case req.Addr == "" || len(req.Addr) > 64:
		err = Refuse(CodeBadRequest, "addr is missing or longer than 64 bytes")
	case len(req.PublicKey) == 0 || len(req.PublicKey) > 512:
		err = Refuse(CodeInvalidKey, "public_key is missing or too long")
	case len(req.Signature) == 0 || len(req.Signature) > 128:
		err = Refuse(CodeBadRequest, "signature is missing or too long")
	}
	return req, err
}

// CheckContentType accepts application/json with an optional charset of
// utf-8.
func CheckContentType(v string) error {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil || mt != "application/json" {
		return Refuse(CodeUnsupportedType, "content type %q is not application/json", truncate(v, 64))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return Refuse(CodeUnsupportedType, "charset %q is not utf-8", truncate(cs, 32))
	}
	return nil
}

func decode(r io.Reader, v any) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxBody+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return Refuse(CodeTooLarge, "body larger than %d bytes", MaxBody)
		}
		return Refuse(CodeBadRequest, "reading body: %v", err)
	}
	if len(data) > MaxBody {
		return Refuse(CodeTooLarge, "body larger than %d bytes", MaxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Refuse(CodeBadRequest, "malformed JSON: %s", oneLine(err.Error()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Refuse(CodeBadRequest, "malformed JSON: data after the object")
	}
	return nil
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return truncate(s, 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s…", s[:n])
}

package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"soitto/app/chat"
	"soitto/app/profile"
	"soitto/login/username"
	"soitto/overlay/presence"
)

// A running interactive session (the app, soitto-cli listen) listens on a
// Unix socket in its profile folder, so that other programs of the same
// user (soitto-cli status) can change what it publishes. One JSON object
// a line each way: {"status":"away"} → {"ok":true} or {"error":"…"}.
// The folder is the user's own (0700), and so is the socket (0600).

// maxControlLine bounds a request or reply line: a chat message of
// chat.MaxText bytes, JSON-escaped at worst six bytes a byte.
const maxControlLine = 6*chat.MaxText + 1<<10

// controlWait bounds how long a request waits for its answer: a chat
// message waits for delivery or the ring (see DeliverMessage).
const controlWait = deliverWait + 10*time.Second

type controlRequest struct {
	Status string `json:"status,omitempty"`
	// Contact is a buddy-list action (add, accept, decline, remove,
	// block) on User, with Message for add.
	Contact string `json:"contact,omitempty"`
	User    string `json:"user,omitempty"`
	Message string `json:"message,omitempty"`
	// Chat is a message to ChatTo, delivered by the running session.
	ChatTo string `json:"chat_to,omitempty"`
	Chat   string `json:"chat,omitempty"`
}

type controlReply struct {
	OK    bool   `json:"ok,omitempty"`
	Error string `json:"error,omitempty"`
	// Outcome of a chat request: see DeliverMessage.
	Outcome string `json:"outcome,omitempty"`
}

// listenControl listens on path, replacing a socket no one answers on.
func listenControl(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("%s: another session of this profile is running", path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	os.Chmod(path, 0o600)
	return ln, nil
}

func (c *Client) serveControl(ctx context.Context, ln net.Listener) {
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer ln.Close()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		c.answerControl(conn)
	}
}

func (c *Client) answerControl(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(controlWait)) // a contact action waits for its signal, a message for delivery
	r := bufio.NewReader(&limitedReader{conn, maxControlLine})
	line, err := r.ReadBytes('\n')
	reply := controlReply{OK: true}
	var req controlRequest
	switch {
	case err != nil:
		reply = controlReply{Error: "no request: " + err.Error()}
	case json.Unmarshal(line, &req) != nil:
		reply = controlReply{Error: "request is not JSON"}
	default:
		var err error
		switch {
		case req.Status != "":
			var st presence.Status
			if st, err = presence.ParseStatus(req.Status); err == nil {
				err = c.SetStatus(st)
			}
		case req.Contact != "":
			err = c.ContactAction(req.Contact, req.User, req.Message)
		case req.ChatTo != "":
			ctx, cancel := context.WithTimeout(context.Background(), deliverWait)
			reply.Outcome, err = c.DeliverMessage(ctx, req.ChatTo, req.Chat)
			cancel()
		default:
			err = errors.New("empty request")
		}
		if err != nil {
			reply = controlReply{Error: err.Error()}
		}
	}
	b, _ := json.Marshal(reply)
	conn.Write(append(b, '\n'))
}

type limitedReader struct {
	c net.Conn
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("request too long")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.c.Read(p)
	l.n -= n
	return n, err
}

// RequestStatus sets the status of the current profile's user: a running
// session of that profile applies it at once (applied is true); otherwise
// it is saved for the next time the user is online.
func (c *Client) RequestStatus(st presence.Status) (applied bool, err error) {
	if st == presence.Offline {
		return false, errors.New("status offline: stop the session instead")
	}
	p, err := c.currentProfile()
	if err != nil {
		return false, err
	}
	if err := p.SaveStatus(st.String()); err != nil {
		return false, err
	}
	return askSession(p, controlRequest{Status: st.String()})
}

// ContactAction does a buddy-list action on user: add (a request, with
// message), accept, decline, remove or block.
func (c *Client) ContactAction(action, user, message string) error {
	var err error
	switch action {
	case "add":
		_, err = c.RequestContactWith(user, message)
	case "accept":
		_, err = c.AcceptContact(user)
	case "decline":
		err = c.DeclineContact(user)
	case "remove":
		err = c.RemoveContact(user)
	case "block":
		err = c.BlockContact(user)
	case "accept-key":
		err = c.AcceptContactKey(user)
	case "privacy":
		err = c.SetPrivacy(Privacy(user))
	default:
		err = fmt.Errorf("contact action %q: want add, accept, decline, remove, block, accept-key or privacy", action)
	}
	return err
}

// RequestContactAction hands a buddy-list action to the session running
// on the current profile (applied is true); with none running, the
// caller logs in and does it itself (the list is sealed with the
// password).
func (c *Client) RequestContactAction(action, user, message string) (applied bool, err error) {
	name := user
	if action != "privacy" {
		if name, err = username.Normalize(user); err != nil {
			return false, err
		}
	}
	p, err := c.currentProfile()
	if err != nil {
		return false, err
	}
	return askSession(p, controlRequest{Contact: action, User: name, Message: message})
}

func (c *Client) currentProfile() (*profile.Profile, error) {
	name, err := c.resolveUser("")
	if err != nil {
		return nil, err
	}
	return profile.Open(c.profileDir(name))
}

// askSession sends req to the session running on p, if any.
func askSession(p *profile.Profile, req controlRequest) (applied bool, err error) {
	reply, applied, err := askSessionReply(p, req)
	_ = reply
	return applied, err
}

func askSessionReply(p *profile.Profile, req controlRequest) (reply controlReply, applied bool, err error) {
	conn, err := net.DialTimeout("unix", p.ControlPath(), time.Second)
	if err != nil {
		return reply, false, nil // no session running
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(controlWait + 5*time.Second))
	b, _ := json.Marshal(req)
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return reply, false, err
	}
	line, err := bufio.NewReader(&limitedReader{conn, maxControlLine}).ReadBytes('\n')
	if err != nil {
		return reply, false, fmt.Errorf("the running session did not answer: %w", err)
	}
	if err := json.Unmarshal(line, &reply); err != nil {
		return reply, false, errors.New("the running session answered garbage")
	}
	if !reply.OK {
		return reply, false, fmt.Errorf("the running session refused: %s", reply.Error)
	}
	return reply, true, nil
}

// RequestMessage hands a chat message to the session running on the
// current profile, which owns the history and delivers it (applied is
// true; outcome as DeliverMessage's); with none running, the caller logs
// in and uses DeliverMessage itself.
func (c *Client) RequestMessage(user, text string) (outcome string, applied bool, err error) {
	name, err := username.Normalize(user)
	if err != nil {
		return "", false, err
	}
	p, err := c.currentProfile()
	if err != nil {
		return "", false, err
	}
	reply, applied, err := askSessionReply(p, controlRequest{ChatTo: name, Chat: text})
	return reply.Outcome, applied, err
}

// SessionRunning tells whether an interactive session of the current
// profile runs (listen, the window): it answers on the control socket.
func (c *Client) SessionRunning() bool {
	p, err := c.currentProfile()
	if err != nil {
		return false
	}
	conn, err := net.DialTimeout("unix", p.ControlPath(), time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"soitto/app"
	"soitto/app/transfer"
	"soitto/overlay/presence"
	"soitto/overlay/search"
)

// attachTimeout bounds how long a command waits for a super-peer.
const attachTimeout = 15 * time.Second

// online resumes the session from the profile and puts it on the overlay.
func (x *cli) online(ctx context.Context, opts app.OnlineOptions) error {
	who := x.client.LastUser()
	pw, err := x.password("Password for "+who+": ", false)
	if err != nil {
		return err
	}
	if _, err := x.client.Resume(ctx, "", pw); err != nil {
		return err
	}
	if err := x.client.GoOnline(opts); err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, attachTimeout)
	defer cancel()
	if _, err := x.client.WaitOnline(actx); err != nil {
		x.client.Logout()
		return fmt.Errorf("no super-peer answered within %v (is the network up?)", attachTimeout)
	}
	return nil
}

type searchJSON struct {
	User      string    `json:"user"`
	Found     bool      `json:"found"`
	Status    string    `json:"status"`
	SuperPeer string    `json:"super_peer,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
	Rounds    int       `json:"rounds"`
	Asked     []string  `json:"asked"`
	Cached    bool      `json:"cached"`
	Proxied   bool      `json:"proxied"`
	Error     string    `json:"error,omitempty"`
}

func (x *cli) search(ctx context.Context, user string) error {
	if err := x.online(ctx, app.OnlineOptions{}); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer x.client.Logout()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err := x.client.Search(sctx, user)
	st := presence.Offline
	if res.Found {
		st = res.Status
	}
	rounds := fmt.Sprintf("%d round%s; asked %s", res.Rounds, plural(res.Rounds), strings.Join(res.Asked, ", "))
	if res.Proxied {
		rounds += "; searched by the super-peer on our behalf"
	}
	if res.Cached {
		rounds += "; from a super-peer's cache"
	}
	if x.json {
		out := searchJSON{User: res.User, Found: res.Found, Status: st.String(), SuperPeer: res.SuperPeer,
			Expires: res.Expires, Rounds: res.Rounds, Asked: res.Asked, Cached: res.Cached, Proxied: res.Proxied}
		if out.Asked == nil {
			out.Asked = []string{}
		}
		if err != nil {
			out.Error = oneLine(err.Error())
		}
		if perr := x.print(out); perr != nil {
			return perr
		}
	}
	switch {
	case errors.Is(err, search.ErrNoSuchUser):
		return fmt.Errorf("%s: no such user online (%s)", res.User, rounds)
	case err != nil:
		return fmt.Errorf("search %s: %w (%s)", res.User, err, rounds)
	}
	if !x.json {
		via := ""
		if res.SuperPeer != "" {
			via = "  via " + res.SuperPeer
		}
		fmt.Fprintf(x.out, "%s  %s%s  (%s)\n", res.User, st, via, rounds)
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func (x *cli) status(state string) error {
	st, err := presence.ParseStatus(state)
	if err != nil || st == presence.Offline {
		return fmt.Errorf("%w: status online|away|dnd|invisible", errUsage)
	}
	applied, err := x.client.RequestStatus(st)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if x.json {
		return x.print(map[string]any{"status": st.String(), "applied": applied})
	}
	if applied {
		fmt.Fprintf(x.out, "status %s (published by the running session)\n", st)
	} else {
		fmt.Fprintf(x.out, "status %s saved; it is published when you are online (soitto-cli listen or the app)\n", st)
	}
	return nil
}

const contactsUsage = "contacts list|add USER [MESSAGE]|accept USER|decline USER|remove USER|block USER|accept-key USER|safety USER|privacy contacts|everyone|export FILE|import FILE"

// contacts lists or changes the buddy list: through the running session
// when there is one (listen, the window), else online for the moment.
func (x *cli) contacts(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, contactsUsage)
	}
	switch action := args[0]; {
	case action == "list" && len(args) == 1:
		if err := x.online(ctx, app.OnlineOptions{}); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
		defer x.client.Logout()
		if err := x.client.BuddyListRefused(); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
		for _, ct := range x.client.Contacts() {
			if x.json {
				o := map[string]any{"name": ct.Name, "state": ct.State, "added": ct.Added, "key_changed": ct.KeyChanged}
				if ct.Message != "" {
					o["message"] = ct.Message
				}
				if err := x.print(o); err != nil {
					return err
				}
				continue
			}
			line := fmt.Sprintf("%-20s %s", ct.Name, ct.State)
			if ct.Message != "" {
				line += fmt.Sprintf("  %q", ct.Message)
			}
			if ct.KeyChanged {
				line += "  KEY CHANGED (compare the safety number, then accept-key)"
			}
			fmt.Fprintln(x.out, line)
		}
		return nil
	case (action == "safety") && len(args) == 2:
		if err := x.online(ctx, app.OnlineOptions{}); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
		defer x.client.Logout()
		n, err := x.client.SafetyNumber(args[1])
		if err != nil {
			return fmt.Errorf("contacts safety: %w", err)
		}
		if x.json {
			return x.print(map[string]any{"user": args[1], "safety_number": n})
		}
		fmt.Fprintf(x.out, "safety number with %s: %s\n", args[1], n)
		return nil
	case (action == "export" || action == "import") && len(args) == 2:
		if action == "import" && x.client.SessionRunning() {
			return errors.New("contacts import: a session of this profile is running (listen or the window): stop it first")
		}
		if err := x.online(ctx, app.OnlineOptions{}); err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
		defer x.client.Logout()
		if action == "export" {
			if err := x.client.ExportContacts(args[1]); err != nil {
				return fmt.Errorf("contacts export: %w", err)
			}
			fmt.Fprintf(x.out, "exported to %s (sealed with your password)\n", args[1])
			return nil
		}
		pw, err := x.password("Password the list was exported with: ", false)
		if err != nil {
			return err
		}
		n, err := x.client.ImportContacts(args[1], pw)
		if err != nil {
			return fmt.Errorf("contacts import: %w", err)
		}
		fmt.Fprintf(x.out, "imported %d from %s\n", n, args[1])
		return nil
	case action == "add" && (len(args) == 2 || len(args) == 3),
		(action == "accept" || action == "decline" || action == "remove" || action == "block" || action == "accept-key" || action == "privacy") && len(args) == 2:
		msg := ""
		if len(args) == 3 {
			msg = args[2]
		}
		applied, err := x.client.RequestContactAction(action, args[1], msg)
		if err != nil {
			return fmt.Errorf("contacts %s: %w", action, err)
		}
		if !applied {
			// No session running: go online for the moment, so that
			// the request or answer reaches the other side now.
			if err := x.online(ctx, app.OnlineOptions{Receive: true}); err != nil {
				return fmt.Errorf("contacts: %w", err)
			}
			err := x.client.ContactAction(action, args[1], msg)
			x.client.Logout() // waits for the signal to go
			if err != nil {
				return fmt.Errorf("contacts %s: %w", action, err)
			}
		}
		if x.json {
			return x.print(map[string]any{"action": action, "user": args[1], "applied": applied})
		}
		done := map[string]string{"add": "asked", "accept": "accepted", "decline": "declined", "remove": "removed",
			"block": "blocked", "accept-key": "accepted the new key of", "privacy": "privacy"}[action]
		fmt.Fprintf(x.out, "%s %s\n", done, args[1])
		return nil
	}
	return fmt.Errorf("%w: %s", errUsage, contactsUsage)
}

// listen stays online and prints one line per event until interrupted.
// With acceptFiles, offered files are accepted into that folder at once.
func (x *cli) listen(ctx context.Context, acceptFiles string) error {
	events, stop := x.client.Subscribe()
	defer stop()
	if err := x.online(ctx, app.OnlineOptions{Interactive: true}); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer x.client.Logout()
	if acceptFiles != "" {
		x.client.SetAcceptFiles(acceptFiles)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-events:
			if err := x.event(e); err != nil {
				return err
			}
		}
	}
}

func (x *cli) event(e app.Event) error {
	var line string
	var obj map[string]any
	switch e := e.(type) {
	case app.Connected:
		line = "online via " + e.SuperPeer
		obj = map[string]any{"event": "connected", "super_peer": e.SuperPeer}
	case app.Disconnected:
		line = "disconnected"
		obj = map[string]any{"event": "disconnected"}
	case app.StatusChanged:
		line = "status " + e.Status.String()
		obj = map[string]any{"event": "status", "status": e.Status.String()}
	case app.PresenceChanged:
		line = fmt.Sprintf("presence %s %s", e.Contact.Name, e.Contact.Status)
		obj = map[string]any{"event": "presence", "user": e.Contact.Name, "status": e.Contact.Status.String()}
		if e.Contact.SuperPeer != "" {
			line += " via " + e.Contact.SuperPeer
			obj["super_peer"] = e.Contact.SuperPeer
		}
	case app.ContactsChanged:
		names := make([]string, len(e.Contacts))
		for i, ct := range e.Contacts {
			names[i] = ct.Name
		}
		line = "contacts " + strings.Join(names, " ")
		obj = map[string]any{"event": "contacts", "contacts": names}
		states := make([]string, len(e.Contacts))
		for i, ct := range e.Contacts {
			states[i] = ct.Name + ":" + string(ct.State)
		}
		line = "contacts " + strings.Join(states, " ")
		obj["states"] = states
	case app.Promoted:
		line = "super-peer at " + e.Addr
		obj = map[string]any{"event": "promoted", "addr": e.Addr}
	case app.SteppedDown:
		line = "super-peer no more: " + e.Why
		obj = map[string]any{"event": "stepped_down", "why": e.Why}
	case app.SessionOpened:
		line = "session " + e.User + " open"
		obj = map[string]any{"event": "session", "user": e.User, "id": e.ID}
	case app.NetChanged:
		r := e.Report
		line = "net " + r.NAT.Type()
		if r.NATError != "" && !r.NAT.UDPBlocked {
			line = "net unknown"
		}
		if r.Relay {
			line += ", relay available"
		} else {
			line += ", no relay"
		}
		obj = map[string]any{"event": "net", "nat_type": r.NATType, "relay": r.Relay}
	case app.CallChanged:
		line = callText(e.Call, time.Time{})
		obj = callObject(e.Call, time.Time{})
	case app.ContactRequested:
		line = "contact request from " + e.From
		if e.Message != "" {
			line += fmt.Sprintf(": %q", e.Message)
		}
		obj = map[string]any{"event": "contact_request", "from": e.From, "message": e.Message}
	case app.ContactKeyChanged:
		line = "key changed " + e.Contact.Name
		obj = map[string]any{"event": "key_changed", "user": e.Contact.Name}
	case app.BuddyListRefused:
		line = "buddy list refused: " + e.Err.Error()
		obj = map[string]any{"event": "buddy_list_refused", "error": e.Err.Error()}
	case app.MessageReceived:
		m := e.Message
		line = fmt.Sprintf("message from %s: %s", m.Peer, m.Text)
		obj = map[string]any{"event": "message", "from": m.Peer, "id": fmt.Sprintf("%x", m.ID), "text": m.Text,
			"time": m.Time, "offline": m.Offline}
	case app.MessageDelivered:
		line = "delivered to " + e.User
		obj = map[string]any{"event": "delivered", "user": e.User, "id": fmt.Sprintf("%x", e.ID)}
	case app.MessageMailed:
		line = e.User + " is offline; a message waits on the ring"
		obj = map[string]any{"event": "mailed", "user": e.User, "id": fmt.Sprintf("%x", e.ID)}
	case app.FileChanged:
		if _, ok := e.Event.(transfer.Progress); ok {
			return nil // listen prints a transfer's changes of state
		}
		line, obj = fileText(e.Event)
	case app.SignalReceived:
		line = fmt.Sprintf("signal %s from %s (%d bytes)", e.Kind, e.From, len(e.Payload))
		obj = map[string]any{"event": "signal", "from": e.From, "kind": e.Kind, "bytes": len(e.Payload)}
	default:
		return nil
	}
	if x.json {
		return x.print(obj)
	}
	_, err := fmt.Fprintln(x.out, line)
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"soitto/app"
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

func (x *cli) contacts(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: contacts list|add USER|remove USER", errUsage)
	}
	switch {
	case args[0] == "list" && len(args) == 1:
		list, err := x.client.SavedContacts()
		if err != nil {
			return fmt.Errorf("contacts: %w", err)
		}
		for _, ct := range list {
			if x.json {
				if err := x.print(map[string]any{"name": ct.Name, "added": ct.Added}); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(x.out, "%s\n", ct.Name)
		}
		return nil
	case (args[0] == "add" || args[0] == "remove") && len(args) == 2:
		applied, err := x.client.RequestContact(args[1], args[0] == "add")
		if err != nil {
			return fmt.Errorf("contacts %s: %w", args[0], err)
		}
		if x.json {
			return x.print(map[string]any{args[0]: args[1], "applied": applied})
		}
		verb := map[string]string{"add": "added", "remove": "removed"}[args[0]]
		fmt.Fprintf(x.out, "%s %s\n", verb, args[1])
		return nil
	}
	return fmt.Errorf("%w: contacts list|add USER|remove USER (accept and block come with contact requests)", errUsage)
}

// listen stays online and prints one line per event until interrupted.
func (x *cli) listen(ctx context.Context) error {
	events, stop := x.client.Subscribe()
	defer stop()
	if err := x.online(ctx, app.OnlineOptions{Interactive: true}); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer x.client.Logout()
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

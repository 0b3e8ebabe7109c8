package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"soitto/app"
	"soitto/app/transfer"
)

// chatWait is how long chat waits for the message to be delivered or
// left on the ring; it stays pending in the history either way.
const chatWait = 40 * time.Second

// chat writes text to user and waits until it is delivered, or sealed
// onto the ring for them to collect when they are offline. A session
// running on the profile (listen, the window) owns the history, so it
// sends it; otherwise this program logs in and does.
func (x *cli) chat(ctx context.Context, user, text string) error {
	outcome, applied, err := x.client.RequestMessage(user, text)
	if err != nil {
		return fmt.Errorf("chat %s: %w", user, err)
	}
	if !applied {
		if err := x.online(ctx, app.OnlineOptions{Receive: true}); err != nil {
			return fmt.Errorf("chat: %w", err)
		}
		defer x.client.Logout()
		wctx, cancel := context.WithTimeout(ctx, chatWait)
		defer cancel()
		if outcome, err = x.client.DeliverMessage(wctx, user, text); err != nil {
			return fmt.Errorf("chat %s: %w", user, err)
		}
	}
	obj := map[string]any{"event": outcome, "user": user}
	switch outcome {
	case app.OutcomeDelivered:
		return x.emit("delivered to "+user, obj)
	case app.OutcomeMailed:
		return x.emit(user+" is offline; the message waits on the ring until they collect it", obj)
	}
	return fmt.Errorf("chat %s: not delivered yet; the message stays pending and goes out at the next start", user)
}

// emit prints line, or obj with --json.
func (x *cli) emit(line string, obj map[string]any) error {
	if x.json {
		return x.print(obj)
	}
	_, err := fmt.Fprintln(x.out, line)
	return err
}

// send offers a file to user and follows the transfer until it is done:
// across breaks of the session (the other side restarting), which it
// resumes from the last verified chunk.
func (x *cli) send(ctx context.Context, user, path string) error {
	if st, err := os.Stat(path); err != nil {
		return fmt.Errorf("send: %w", err)
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("send: %s is not a regular file", path)
	}
	events, stop := x.client.Subscribe()
	defer stop()
	if err := x.online(ctx, app.OnlineOptions{Receive: true}); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	defer x.client.Logout()
	info, err := x.client.SendFile(ctx, user, path)
	if err != nil {
		return fmt.Errorf("send %s to %s: %w", filepath.Base(path), user, err)
	}
	x.fileLine(transfer.Offered{Info: info})
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			x.client.CancelFile(info.ID)
			return errors.New("send: interrupted; the transfer was cancelled")
		case e := <-events:
			fc, ok := e.(app.FileChanged)
			if !ok || fc.Event.TransferInfo().ID != info.ID {
				continue
			}
			if _, ok := fc.Event.(transfer.Progress); ok && time.Since(last) < time.Second {
				continue
			}
			last = time.Now()
			x.fileLine(fc.Event)
			switch ev := fc.Event.(type) {
			case transfer.Done:
				return nil
			case transfer.Failed:
				return fmt.Errorf("send %s: %v", info.Name, ev.Err)
			case transfer.Declined:
				return fmt.Errorf("send %s: %s declined it", info.Name, user)
			case transfer.Cancelled:
				return fmt.Errorf("send %s: cancelled (%s)", info.Name, ev.Reason)
			}
		}
	}
}

// fileLine prints a transfer's event.
func (x *cli) fileLine(e transfer.Event) {
	line, obj := fileText(e)
	x.emit(line, obj)
}

func fileText(e transfer.Event) (string, map[string]any) {
	i := e.TransferInfo()
	dir := "to"
	if i.Incoming {
		dir = "from"
	}
	head := fmt.Sprintf("file %s %s %s", i.Name, dir, i.User)
	obj := map[string]any{"event": "file", "id": i.ID, "user": i.User, "name": i.Name, "size": i.Size,
		"done": i.Done, "incoming": i.Incoming, "state": string(i.State)}
	var line string
	switch ev := e.(type) {
	case transfer.Offered:
		line = fmt.Sprintf("%s: offered (%s)", head, bytesText(i.Size))
	case transfer.Accepted:
		line = head + ": accepted"
	case transfer.Progress:
		line = fmt.Sprintf("%s: %d%% (%s of %s, %s/s, %v left)", head, percent(i.Done, i.Size),
			bytesText(i.Done), bytesText(i.Size), bytesText(int64(i.Rate)), i.ETA.Round(time.Second))
		obj["rate"] = i.Rate
	case transfer.Paused:
		line = fmt.Sprintf("%s: paused at %d%% (%v)", head, percent(i.Done, i.Size), ev.Err)
	case transfer.Done:
		line = fmt.Sprintf("%s: done, %s", head, ev.Path)
		obj["path"] = ev.Path
	case transfer.Failed:
		line = fmt.Sprintf("%s: failed: %v", head, ev.Err)
		obj["error"] = ev.Err.Error()
	case transfer.Declined:
		line = head + ": declined"
	case transfer.Cancelled:
		by := "here"
		if ev.ByPeer {
			by = i.User
		}
		line = fmt.Sprintf("%s: cancelled by %s (%s)", head, by, ev.Reason)
	default:
		line = fmt.Sprintf("%s: %s", head, i.State)
	}
	return line, obj
}

func percent(done, size int64) int64 {
	if size <= 0 {
		return 100
	}
	return done * 100 / size
}

// bytesText is n in B, KiB, MiB or GiB.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"soitto/app"
	"soitto/media/audio"
)

// devices opens SRC and SINK for a call. A system device that cannot be
// opened (no sound card, no sound server) is replaced by silence or
// nothing, with a warning: the call still connects.
func (x *cli) devices(src, sink string) app.AudioDevices {
	return func() (audio.Source, audio.Sink, error) {
		mic, err := audio.OpenSource(src)
		if errors.Is(err, audio.ErrNoDevice) || errors.Is(err, audio.ErrNoCgo) {
			fmt.Fprintf(x.errOut, "soitto-cli: no microphone (%v); sending silence\n", oneLine(err.Error()))
			mic, err = audio.Silence(), nil
		}
		if err != nil {
			return nil, nil, err
		}
		spk, err := audio.OpenSink(sink)
		if errors.Is(err, audio.ErrNoDevice) || errors.Is(err, audio.ErrNoCgo) {
			fmt.Fprintf(x.errOut, "soitto-cli: no speaker (%v); the other side is not played\n", oneLine(err.Error()))
			spk, err = audio.Null(), nil
		}
		if err != nil {
			mic.Close()
			return nil, nil, err
		}
		return mic, spk, nil
	}
}

// checkDevices opens and closes SRC and SINK once, so that a wrong file
// name fails before anyone's phone rings.
func checkDevices(src, sink string) error {
	if src != "default" && !isDefault(src) {
		s, err := audio.OpenSource(src)
		if err != nil {
			return err
		}
		s.Close()
	}
	if sink != "default" && !isDefault(sink) && sink != "null" {
		// A WAV sink would create the file; only check its folder.
		if _, err := os.Stat(dirOf(sink)); err != nil {
			return fmt.Errorf("speaker %q: %v", sink, err)
		}
	}
	return nil
}

func isDefault(s string) bool { return len(s) > 8 && s[:8] == "default:" }

func dirOf(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i+1]
		}
	}
	return "."
}

// call rings user, talks for duration (0: until either side hangs up or
// the command is interrupted) and hangs up.
func (x *cli) call(ctx context.Context, user, src, sink string, duration time.Duration) error {
	if err := checkDevices(src, sink); err != nil {
		return fmt.Errorf("call: %w", err)
	}
	events, stop := x.client.Subscribe()
	defer stop()
	if err := x.online(ctx, app.OnlineOptions{Receive: true}); err != nil {
		return fmt.Errorf("call: %w", err)
	}
	defer x.client.Logout()
	start := time.Now()
	info, err := x.client.Call(ctx, user, x.devices(src, sink))
	if err != nil {
		return fmt.Errorf("call %s: %w", user, err)
	}
	var talk <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			x.client.HangUp(info.ID)
			return nil
		case <-talk:
			st, _ := x.client.CallStats(info.ID)
			x.client.HangUp(info.ID)
			x.statsLine(user, st)
			return nil
		case e := <-events:
			cc, ok := e.(app.CallChanged)
			if !ok || cc.Call.ID != info.ID {
				continue
			}
			x.callLine(cc.Call, start)
			switch cc.Call.State {
			case app.CallActive:
				if duration > 0 {
					talk = time.After(duration)
				}
			case app.CallEnded:
				return callError(cc.Call)
			}
		}
	}
}

// callError is the error of a call that ended otherwise than by a
// hang-up, or nil.
func callError(c app.CallInfo) error {
	switch c.End {
	case app.EndHungUp:
		return nil
	case app.EndFailed:
		return fmt.Errorf("call %s failed: %s", c.Peer, c.Reason)
	default:
		return fmt.Errorf("call %s: %s", c.Peer, c.End)
	}
}

// callLine prints a call's new state.
func (x *cli) callLine(c app.CallInfo, start time.Time) {
	if x.json {
		x.print(callObject(c, start))
		return
	}
	fmt.Fprintln(x.out, callText(c, start))
}

func callText(c app.CallInfo, start time.Time) string {
	who := c.Peer
	if !c.Outgoing {
		who = "from " + c.Peer
	}
	s := fmt.Sprintf("call %s %s", who, c.State)
	if !start.IsZero() && c.State != app.CallEnded {
		s += fmt.Sprintf(" (%v)", time.Since(start).Round(time.Millisecond))
	}
	if c.State == app.CallEnded {
		s += ": " + string(c.End)
		if c.EndedBy != "" {
			s += " by " + c.EndedBy
		}
		if c.Reason != "" {
			s += " (" + c.Reason + ")"
		}
		if d := c.Duration(time.Now()); d > 0 {
			s += fmt.Sprintf(" after %v", d.Round(time.Second))
		}
	}
	return s
}

func callObject(c app.CallInfo, start time.Time) map[string]any {
	o := map[string]any{"event": "call", "id": c.ID, "peer": c.Peer, "outgoing": c.Outgoing, "state": c.State.String()}
	if !start.IsZero() {
		o["elapsed_ns"] = time.Since(start)
	}
	if c.State == app.CallEnded {
		o["end"] = string(c.End)
		o["ended_by"] = c.EndedBy
		o["reason"] = c.Reason
		o["duration_ns"] = c.Duration(time.Now())
	}
	return o
}

// statsLine prints a call's statistics before it hangs up.
func (x *cli) statsLine(user string, st app.CallStats) {
	if x.json {
		x.print(map[string]any{"event": "call_stats", "peer": user, "path": st.Path.Text, "direct": st.Path.Direct,
			"rtt_ns": st.RTT, "remote_loss": st.RemoteLoss, "local_loss": st.LocalLoss, "jitter_ns": st.Jitter,
			"buffer_ns": st.Buffer, "send_kbps": st.SendKbps, "recv_kbps": st.RecvKbps,
			"recovered": st.Recovered, "concealed": st.Concealed})
		return
	}
	fmt.Fprintf(x.out, "path  %s\n", st.Path.Text)
	fmt.Fprintf(x.out, "rtt %v, loss %.1f%% sent / %.1f%% received, jitter %v (buffer %v), %.1f kb/s out, %.1f kb/s in\n",
		st.RTT.Round(10*time.Microsecond), 100*st.RemoteLoss, 100*st.LocalLoss, st.Jitter.Round(100*time.Microsecond),
		st.Buffer, st.SendKbps, st.RecvKbps)
}

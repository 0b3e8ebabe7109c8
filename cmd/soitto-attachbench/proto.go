package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// report is one line a child writes on its stdout, as JSON. The
// coordinator writes commands to a child's stdin, one a line: "measure
// LABEL", "profile PATH", "status", "quit". A child whose stdin ends
// stops as on "quit", so none outlives the coordinator.
type report struct {
	Event string     `json:"event"` // ready, mem, profiled, attached, status, bye
	Addr  string     `json:"addr,omitempty"`
	Mem   *memSample `json:"mem,omitempty"`

	// Clients: attached and still attached, attach retries, seconds to
	// attach them all, pings answered and failed, links lost.
	Attached   int     `json:"attached,omitempty"`
	Retries    int     `json:"retries,omitempty"`
	Secs       float64 `json:"secs,omitempty"`
	Pings      int64   `json:"pings,omitempty"`
	PingErrors int64   `json:"ping_errors,omitempty"`
	Lost       int64   `json:"lost,omitempty"`
	FDLimit    uint64  `json:"fd_limit,omitempty"`
	Err        string  `json:"err,omitempty"`
}

// emitter writes reports; safe for concurrent use.
type emitter struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func newEmitter(w io.Writer) *emitter { return &emitter{enc: json.NewEncoder(w)} }

func (e *emitter) emit(r report) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.enc.Encode(r)
}

// commands delivers the lines of in until it ends; the channel closes then.
func commands(in io.Reader) <-chan []string {
	ch := make(chan []string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) > 0 {
				ch <- f
			}
		}
	}()
	return ch
}

// child is a running child process of the coordinator.
type child struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	reports chan report
	exited  chan struct{}
	err     error // set when exited is closed
}

func startChild(ctx context.Context, name string, stderr io.Writer, args ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = stderr
	cmd.WaitDelay = 10 * time.Second
	dieWithParent(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{name: name, cmd: cmd, stdin: stdin, reports: make(chan report, 16), exited: make(chan struct{})}
	go func() {
		dec := json.NewDecoder(stdout)
		for {
			var r report
			if err := dec.Decode(&r); err != nil {
				break
			}
			c.reports <- r
		}
		c.err = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

func (c *child) send(cmd ...string) error {
	_, err := fmt.Fprintln(c.stdin, strings.Join(cmd, " "))
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

// expect waits for the next report, which must be event.
func (c *child) expect(ctx context.Context, event string, limit time.Duration) (report, error) {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case r := <-c.reports:
		if r.Err != "" {
			return r, fmt.Errorf("%s: %s", c.name, r.Err)
		}
		if r.Event != event {
			return r, fmt.Errorf("%s: got report %q, want %q", c.name, r.Event, event)
		}
		return r, nil
	case <-c.exited:
		return report{}, fmt.Errorf("%s exited before %q: %v", c.name, event, c.err)
	case <-t.C:
		return report{}, fmt.Errorf("%s: no %q in %v", c.name, event, limit)
	case <-ctx.Done():
		return report{}, ctx.Err()
	}
}

// stop ends the child: its stdin closes, it shuts down and exits; one
// that does not within limit is killed.
func (c *child) stop(limit time.Duration) error {
	c.stdin.Close()
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case <-c.reports: // a late report; "bye" among them
		case <-c.exited:
			return c.err
		case <-t.C:
			c.cmd.Process.Kill()
			<-c.exited
			return errors.New(c.name + " did not stop; killed")
		}
	}
}

package memnet_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"soitto/overlay"
	"soitto/overlay/memnet"
	"soitto/overlay/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ping() *wire.Envelope {
	return &wire.Envelope{Body: &wire.Envelope_Ping{Ping: &wire.PingRequest{}}}
}

func ok() *wire.Envelope { return &wire.Envelope{Body: &wire.Envelope_Ok{Ok: &wire.Empty{}}} }

// echo answers FindStep with the key it got, as a node list of one.
func echo(got chan<- overlay.Peer) overlay.Handler {
	return overlay.HandlerFunc(func(ctx context.Context, from overlay.Peer, req *wire.Envelope) (*wire.Envelope, error) {
		if got != nil {
			got <- from
		}
		switch b := req.Body.(type) {
		case *wire.Envelope_FindStep:
			key := b.FindStep.Key
			resp := &wire.FindStepResponse{Nodes: []*wire.NodeInfo{{Id: key, Addr: "x"}}}
			key[0] ^= 0xff // the caller's copy must not change
			return &wire.Envelope{Body: &wire.Envelope_FindStepResult{FindStepResult: resp}}, nil
		case *wire.Envelope_Ping:
			return ok(), nil
		}
		return nil, wire.Errorf(wire.ErrBadRequest, "unexpected %T", req.Body)
	})
}

func TestCall(t *testing.T) {
	net := memnet.New(memnet.Options{})
	from := make(chan overlay.Peer, 1)
	net.Listen("b:1", echo(from))
	a := net.Listen("a:1", echo(nil))

	key := []byte{1, 2, 3}
	req := &wire.Envelope{Body: &wire.Envelope_FindStep{FindStep: &wire.FindStepRequest{Key: key, Count: 1}}}
	resp, err := a.Call(context.Background(), "b:1", req)
	if err != nil {
		t.Fatal(err)
	}
	if got := <-from; got != (overlay.Peer{Node: overlay.NewNode("a:1"), Name: "node:a:1"}) {
		t.Errorf("callee saw %+v, want a:1's node", got)
	}
	if key[0] != 1 {
		t.Error("the callee changed the caller's request: messages are not copied")
	}
	if !resp.Response || resp.Id == 0 {
		t.Errorf("response envelope: response %v, id %d", resp.Response, resp.Id)
	}
	if got := resp.GetFindStepResult().GetNodes()[0].GetId(); got[0] != 0xfe {
		t.Errorf("response carried %v", got)
	}

	_, err = a.Call(context.Background(), "b:1", &wire.Envelope{Body: &wire.Envelope_Notify{Notify: &wire.NotifyRequest{}}})
	var re *wire.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, wire.ErrBadRequest) {
		t.Errorf("handler error: got %v, want a RemoteError for %v", err, wire.ErrBadRequest)
	}

	if got, want := net.Messages(), uint64(2); got != want {
		t.Errorf("Messages: got %d, want %d", got, want)
	}
	if got := net.Counts(); got["find_step"] != 1 || got["notify"] != 1 {
		t.Errorf("Counts: got %v, want one find_step and one notify", got)
	}
	if net.Bytes() == 0 {
		t.Error("Bytes: got 0")
	}
	net.Reset()
	if net.Messages() != 0 || len(net.Counts()) != 0 {
		t.Error("Reset left counts")
	}
}

func TestKillReviveRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := memnet.New(memnet.Options{Timeout: 3 * time.Second})
		net.Listen("b:1", echo(nil))
		a := net.Listen("a:1", echo(nil))
		ctx := context.Background()

		net.Kill("b:1")
		start := time.Now()
		_, err := a.Call(ctx, "b:1", ping())
		if !errors.Is(err, memnet.ErrUnreachable) || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("call to a killed node: got %v, want %v", err, memnet.ErrUnreachable)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("failed after %v, want the 3s timeout", got)
		}
		short, cancel := context.WithTimeout(ctx, time.Second)
		_, err = a.Call(short, "b:1", ping())
		cancel()
		if !errors.Is(err, memnet.ErrUnreachable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("with a shorter deadline: got %v", err)
		}

		net.Revive("b:1")
		if _, err := a.Call(ctx, "b:1", ping()); err != nil {
			t.Errorf("after Revive: %v", err)
		}
		net.Kill("a:1")
		if _, err := a.Call(ctx, "b:1", ping()); !errors.Is(err, memnet.ErrUnreachable) {
			t.Errorf("a killed node calling: got %v, want %v", err, memnet.ErrUnreachable)
		}
		net.Revive("a:1")
		net.Remove("b:1")
		if _, err := a.Call(ctx, "b:1", ping()); !errors.Is(err, memnet.ErrUnreachable) {
			t.Errorf("after Remove: got %v, want %v", err, memnet.ErrUnreachable)
		}
		if _, err := a.Call(ctx, "nobody:1", ping()); !errors.Is(err, memnet.ErrUnreachable) {
			t.Errorf("unknown address: got %v, want %v", err, memnet.ErrUnreachable)
		}
		if got := net.Failed(); got != 5 {
			t.Errorf("Failed: got %d, want 5", got)
		}
	})
}

func TestLatencyAndDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := memnet.New(memnet.Options{
			Latency: 20 * time.Millisecond,
			Jitter:  10 * time.Millisecond,
			Rand:    rand.New(rand.NewPCG(1, 1)),
		})
		net.Listen("b:1", echo(nil))
		a := net.Listen("a:1", echo(nil))
		ctx := context.Background()
		for range 20 {
			start := time.Now()
			if _, err := a.Call(ctx, "b:1", ping()); err != nil {
				t.Fatal(err)
			}
			if rtt := time.Since(start); rtt < 40*time.Millisecond || rtt >= 60*time.Millisecond {
				t.Errorf("round trip %v, want [40ms, 60ms)", rtt)
			}
		}

		net.SetLatency(0, 0)
		net.SetDrop(1)
		_, err := a.Call(ctx, "b:1", ping())
		if !errors.Is(err, memnet.ErrDropped) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("dropped: got %v, want %v", err, memnet.ErrDropped)
		}
		if net.Dropped() != 1 {
			t.Errorf("Dropped: got %d, want 1", net.Dropped())
		}
	})
}

// TestCallerDeadline: a handler that does not answer in time does not
// hold the caller past its deadline.
func TestCallerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := memnet.New(memnet.Options{})
		net.Listen("slow:1", overlay.HandlerFunc(func(ctx context.Context, _ overlay.Peer, _ *wire.Envelope) (*wire.Envelope, error) {
			<-ctx.Done() // answers only when the caller has given up
			return ok(), nil
		}))
		a := net.Listen("a:1", echo(nil))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if _, err := a.Call(ctx, "slow:1", ping()); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want %v", err, context.DeadlineExceeded)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("returned after %v, want 1s", got)
		}
	})
}

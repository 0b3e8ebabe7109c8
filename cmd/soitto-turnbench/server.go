//go:build linux && (amd64 || arm64)

package main

// The relay processes: ours (serve-ours) and coturn, started, watched and stopped.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"soitto/nat"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

type serverProc struct {
	kind  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	log   *os.File
	note  string // the relay's settings
	done  chan struct{}
	err   error // of Wait, once done is closed
}

func startServer(kind string, o options, addr netip.AddrPort, secret, dir string) (*serverProc, error) {
	s := &serverProc{kind: kind, done: make(chan struct{})}
	var err error
	if s.log, err = os.Create(filepath.Join(dir, kind+".log")); err != nil {
		return nil, err
	}
	switch kind {
	case "ours":
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		args := []string{"serve-ours", "--listen", addr.String(),
			"--port-min", strconv.Itoa(o.portMin), "--port-max", strconv.Itoa(o.portMax)}
		if o.rcvbuf > 0 {
			args = append(args, "--rcvbuf", strconv.Itoa(o.rcvbuf))
		}
		if o.cpuprofile != "" {
			p, err := filepath.Abs(o.cpuprofile)
			if err != nil {
				return nil, err
			}
			args = append(args, "--cpuprofile", p)
		}
		s.note = "listening socket's SO_RCVBUF: the system default (net.core.rmem_default " + sysctl("net/core/rmem_default") + ")"
		if o.rcvbuf > 0 {
			s.note = fmt.Sprintf("listening socket's SO_RCVBUF set to %d (--rcvbuf; net.core.rmem_max %s)", o.rcvbuf, sysctl("net/core/rmem_max"))
		}
		s.cmd = exec.Command(exe, args...)
		s.cmd.Env = append(os.Environ(), secretEnv+"="+secret)
		if s.stdin, err = s.cmd.StdinPipe(); err != nil {
			return nil, err
		}
		out, err := s.cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		s.lines = make(chan string, 16)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				s.lines <- sc.Text()
			}
			close(s.lines)
		}()
	case "coturn":
		s.cmd = exec.Command(o.turnserver, "-n",
			"--listening-ip", addr.Addr().String(), "--listening-port", strconv.Itoa(int(addr.Port())),
			"--relay-ip", addr.Addr().String(), "--min-port", strconv.Itoa(o.portMin), "--max-port", strconv.Itoa(o.portMax),
			"--use-auth-secret", "--static-auth-secret", secret, "--realm", realm,
			"--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--no-tcp-relay",
			"--relay-threads", strconv.Itoa(o.coturnThreads),
			"--user-quota", "0", "--total-quota", "0", "--max-bps", "0",
			"--pidfile", filepath.Join(dir, "turnserver.pid"), "--log-file", "stdout", "--simple-log")
		s.cmd.Stdout = s.log
		s.note = fmt.Sprintf("turnserver --relay-threads %d, quotas and max-bps 0 (unlimited)", o.coturnThreads)
	default:
		return nil, fmt.Errorf("unknown server %q", kind)
	}
	s.cmd.Stderr = s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.log.Close()
		return nil, err
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	return s, nil
}

// command sends a line to our relay process (start, stop); coturn takes
// none.
func (s *serverProc) command(c string) error {
	if s.stdin == nil {
		return nil
	}
	_, err := io.WriteString(s.stdin, c+"\n")
	return err
}

// endWindow ends the window in the relay process and returns what it
// says about it.
func (s *serverProc) endWindow() (string, error) {
	if s.stdin == nil {
		return s.note, nil
	}
	if err := s.command("stop"); err != nil {
		return "", err
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				return "", errors.New("relay process ended")
			}
			if rest, ok := strings.CutPrefix(l, "stats "); ok {
				var st nat.TURNStats
				if err := json.Unmarshal([]byte(rest), &st); err != nil {
					return "", fmt.Errorf("relay stats: %w", err)
				}
				return fmt.Sprintf("nat.NewTURN, lab mode, AllocationRate and NodeRate 1 GiB/s, MaxAllocationsPerUser 1M: no limit of ours applies (relay counters over the whole run: %d allocations, %d dropped by rate limits, %d refused peers); %s",
					st.AllocationsCreated, st.DroppedRate, st.RefusedPeers, s.note), nil
			}
		case <-timeout:
			return "", errors.New("relay process did not answer stop")
		}
	}
}

// stop ends the relay process: ours by closing its stdin, coturn by
// SIGTERM; SIGKILL after 5 s.
func (s *serverProc) stop() error {
	defer s.log.Close()
	if s.stdin != nil {
		s.stdin.Close()
	} else {
		s.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	if s.kind == "ours" && s.err != nil {
		return fmt.Errorf("relay process: %v: %s", s.err, s.logTail())
	}
	return nil
}

func (s *serverProc) logTail() string {
	b, _ := os.ReadFile(s.log.Name())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// waitReady waits until the relay answers an Allocate (with 401).
func waitReady(ctx context.Context, addr netip.AddrPort, s *serverProc) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		fd, err := clientSocket(addr, 100*time.Millisecond)
		if err != nil {
			return err
		}
		_, err = transact(fd, stun.MustBuild(stun.TransactionID, stun.NewType(stun.MethodAllocate, stun.ClassRequest), udpTransport), 1)
		syscall.Close(fd)
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("relay process ended: %v: %s", s.err, s.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("relay at %v not answering: %v", addr, err)
		}
	}
}

// serveOurs is the relay process: nat.NewTURN on --listen until stdin
// closes. "start" and "stop" lines bound the window: the CPU profile, if
// any, covers it, and "stop" is answered with the relay's counters.
func serveOurs(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve-ours", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:3478", "UDP address")
	portMin := fs.Int("port-min", 20000, "lowest relay port")
	portMax := fs.Int("port-max", 29999, "highest relay port")
	cpuprofile := fs.String("cpuprofile", "", "CPU profile of the window")
	rcvbuf := fs.Int("rcvbuf", 0, "SO_RCVBUF of the listening socket; 0 leaves the system default")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret := os.Getenv(secretEnv)
	if secret == "" {
		return errors.New(secretEnv + " is not set")
	}
	raiseFDLimit()
	ap, err := netip.ParseAddrPort(*listen)
	if err != nil {
		return err
	}
	var tn transport.Net
	if tn, err = stdnet.NewNet(); err != nil {
		return err
	}
	if *rcvbuf > 0 {
		tn = bufNet{Net: tn, listen: *listen, size: *rcvbuf}
	}
	t, err := nat.NewTURN(nat.TURNConfig{
		Net: tn, ListenUDP: *listen, RelayIP: ap.Addr().String(), PortMin: *portMin, PortMax: *portMax,
		Realm: realm, Secret: []byte(secret), Lab: true,
		// Far above the load: only the relay itself is measured.
		MaxAllocationsPerUser: 1 << 20, AllocationRate: 1 << 30, NodeRate: 1 << 30,
	})
	if err != nil {
		return err
	}
	defer t.Close()
	fmt.Fprintln(stdout, "ready", t.UDPAddr())
	var prof *os.File
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "start":
			if *cpuprofile != "" && prof == nil {
				if prof, err = os.Create(*cpuprofile); err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(prof); err != nil {
					return err
				}
			}
		case "stop":
			if prof != nil {
				pprof.StopCPUProfile()
				if err := prof.Close(); err != nil {
					return err
				}
			}
			b, _ := json.Marshal(t.Stats())
			fmt.Fprintf(stdout, "stats %s\n", b)
		}
	}
	return nil
}

// bufNet sets the receive buffer of the relay's listening socket (an
// experiment: --rcvbuf), and of nothing else.
type bufNet struct {
	transport.Net
	listen string
	size   int
}

func (n bufNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil || address != n.listen {
		return c, err
	}
	uc, ok := c.(*net.UDPConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("listening socket is a %T", c)
	}
	if err := uc.SetReadBuffer(n.size); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

//go:build linux && (amd64 || arm64)

// Command soitto-turnbench measures a TURN relay carrying Opus-like
// traffic on loopback: N allocations, each sending -pps packets a second
// of -size bytes from its TURN client through the relay to a peer, and the
// peer echoing each packet back through the relay to the client (both
// directions, as in a call; -echo=false for one). It runs our relay
// (nat.NewTURN) and/or coturn (/usr/bin/turnserver) under the same load
// and prints, per server: allocations made, packets sent and received in
// the measured window, loss, the relay process's CPU and the load
// generator's own.
//
// Method. The relay always runs in a separate process so that its CPU is
// measured apart (utime+stime from /proc/PID/stat over the window): ours
// is this command re-executed as "soitto-turnbench serve-ours", coturn is
// turnserver. This process is the load generator, built to cost little:
// one sender goroutine per 100 allocations (all sending in one burst per
// packet interval, the groups spread evenly over it), a few epoll reader
// goroutines for the clients' sockets, and a few peer sockets, each
// serving many allocations, read and echoed in batches with
// recvmmsg/sendmmsg. Readers poll every millisecond instead of blocking
// on every packet, which halves the generator's CPU; the price is that
// the relay gets packets in small bursts, which is kinder to it than
// independent clients would be (the same for every relay). The clients
// speak raw STUN (pion/stun) over their own UDP sockets: Allocate with
// REST credentials (nat.RESTCredentials, a distinct user each), then
// ChannelBind to their peer, then ChannelData, as real clients do.
//
// Allocations are made first, at -ramp a second, so that setup is not
// what is measured (setup under load is not measured at all); then every
// allocation starts sending, the load settles (-settle), and the window
// starts: every packet carries its allocation, a sequence number and the
// phase it was sent in, and only packets sent in the window are counted,
// wherever they arrive. After the window the load runs a second longer
// so late packets of the window still arrive, then everything stops, and
// the relay process, every socket and goroutine are closed.
//
// The machine is shared: the relay, the generator and the kernel's
// loopback work compete for the same cores, so the table also shows the
// generator's CPU, the softirq time, the rest of the machine's and the
// hypervisor's steal (/proc/stat), and the packets dropped by a full
// socket receive queue (/proc/net/udp), on the relay's sockets and on the
// generator's: loss that is on neither happened inside the relay process.
// Linux only (epoll, recvmmsg, /proc).
//
// Usage:
//
//	soitto-turnbench [--allocations 2000] [--pps 50] [--size 160]
//	    [--duration 20s] [--server ours|coturn|both] [--ramp 200]
//	    [--echo=true] [--cpuprofile FILE]
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/pion/stun/v4"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"

	"soitto/internal/texttable"
	"soitto/nat"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options of a benchmark run.
type options struct {
	allocations, pps, size int
	duration, settle       time.Duration
	servers                []string
	ramp                   int
	echo                   bool
	peers, readers, group  int
	coturnThreads          int
	turnserver             string
	portMin, portMax       int
	cpuprofile             string
	rcvbuf                 int
}

const (
	channelNumber = 0x4000
	payloadMin    = 9 // allocation index (4), sequence number (4), phase (1)
	secretEnv     = "SOITTO_TURNBENCH_SECRET"
	realm         = "soitto"
	userHz        = 100 // the unit of /proc's CPU times on Linux
)

// Phases a packet is sent in; only phaseWindow is counted.
const (
	phaseBefore uint32 = iota
	phaseWindow
	phaseAfter
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "serve-ours" {
		if err := serveOurs(args[1:], stdin, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "soitto-turnbench serve-ours:", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("soitto-turnbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.allocations, "allocations", 2000, "TURN allocations (each a distinct user, one channel to a peer)")
	fs.IntVar(&o.pps, "pps", 50, "packets a second per allocation and direction (Opus at 20 ms)")
	fs.IntVar(&o.size, "size", 160, "bytes of each packet as the peer gets it (ChannelData adds 4)")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "measured window (at most 4m: allocations are not refreshed)")
	server := fs.String("server", "both", "ours, coturn or both")
	fs.IntVar(&o.ramp, "ramp", 200, "allocations made a second before the window")
	fs.DurationVar(&o.settle, "settle", 2*time.Second, "full load before the window starts")
	fs.BoolVar(&o.echo, "echo", true, "peers echo every packet back through the relay (both directions)")
	fs.IntVar(&o.peers, "peers", 4, "peer sockets, each serving every so many allocations")
	fs.IntVar(&o.readers, "readers", 2, "epoll goroutines reading the clients' sockets")
	fs.IntVar(&o.group, "group", 100, "allocations per sender goroutine")
	fs.IntVar(&o.coturnThreads, "coturn-threads", runtime.NumCPU(), "coturn's --relay-threads")
	fs.StringVar(&o.turnserver, "turnserver", "/usr/bin/turnserver", "coturn's turnserver binary")
	fs.IntVar(&o.portMin, "port-min", 20000, "lowest relay port")
	fs.IntVar(&o.portMax, "port-max", 29999, "highest relay port")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of our relay process over the window to this file")
	fs.IntVar(&o.rcvbuf, "rcvbuf", 0, "experiment: SO_RCVBUF of our relay's listening socket (capped by net.core.rmem_max); 0 leaves the system default")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch *server {
	case "ours", "coturn":
		o.servers = []string{*server}
	case "both":
		o.servers = []string{"ours", "coturn"}
	default:
		fmt.Fprintf(stderr, "soitto-turnbench: --server %q: want ours, coturn or both\n", *server)
		return 2
	}
	if err := o.check(); err != nil {
		fmt.Fprintln(stderr, "soitto-turnbench:", err)
		return 2
	}
	raiseFDLimit()
	if need, have := uint64(o.allocations+o.peers+o.readers+256), fdLimit(); have < need {
		fmt.Fprintf(stderr, "soitto-turnbench: %d allocations need %d open files, the limit is %d\n", o.allocations, need, have)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(stdout, "soitto-turnbench: %d allocations (distinct users, one channel each) × %d packets/s × %d bytes, %s; window %v after a ramp of %d/s and %v at full load; 127.0.0.1 only\n",
		o.allocations, o.pps, o.size, map[bool]string{true: "client→peer and echoed back", false: "client→peer only"}[o.echo],
		o.duration, o.ramp, o.settle)
	fmt.Fprintf(stdout, "machine: %d cores shared by the relay process, this load generator and the kernel's loopback work; CPU %% is of one core (all of them: %d)\n",
		runtime.NumCPU(), 100*runtime.NumCPU())
	fmt.Fprintf(stdout, "generator: %d sender goroutines (%d allocations each, sending together once a packet interval, the groups spread over it), %d epoll readers and %d peer sockets, polled every %v\n",
		(o.allocations+o.group-1)/o.group, o.group, o.readers, o.peers, pollInterval)
	var results []result
	for _, kind := range o.servers {
		// The ramp is cut short at rampLimit; the rest is bounded too.
		ctx, cancel := context.WithTimeout(ctx, o.rampLimit()+o.settle+o.duration+time.Minute)
		r, err := bench(ctx, o, kind, stderr)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "soitto-turnbench: %s: %v\n", kind, err)
			return 1
		}
		results = append(results, r)
	}
	printResults(stdout, o, results)
	return 0
}

func (o *options) check() error {
	switch {
	case o.allocations < 1:
		return errors.New("--allocations must be positive")
	case o.pps < 1 || o.pps > 1000:
		return errors.New("--pps must be 1…1000")
	case o.size < payloadMin || o.size > 1400:
		return fmt.Errorf("--size must be %d…1400", payloadMin)
	case o.duration <= 0 || o.duration > 4*time.Minute:
		return errors.New("--duration must be positive and at most 4m (permissions last 5 minutes and are not refreshed)")
	case o.ramp < 1 || o.peers < 1 || o.readers < 1 || o.group < 1 || o.coturnThreads < 1:
		return errors.New("--ramp, --peers, --readers, --group and --coturn-threads must be positive")
	case o.settle < 0:
		return errors.New("--settle must not be negative")
	case o.portMin < 1024 || o.portMax > 65535 || o.portMax-o.portMin < 2*o.allocations:
		return fmt.Errorf("relay ports %d-%d: need at least twice --allocations ports above 1023", o.portMin, o.portMax)
	}
	return nil
}

// rampLimit is how long making the allocations may take: an overloaded
// relay loses setup requests too, and the window then starts with the
// allocations made.
func (o *options) rampLimit() time.Duration {
	return 3*time.Duration(o.allocations)*time.Second/time.Duration(o.ramp) + 30*time.Second
}

// result is one server's measurements over the window.
type result struct {
	server                string
	allocs, failed        int
	rampSecs              float64
	firstErr              string
	window                time.Duration
	upSent, upRecv        uint64 // client → relay → peer
	downSent, downRecv    uint64 // peer → relay → client (echo)
	worstAlloc            float64
	serverCPU, genCPU     float64 // % of one core
	softirqCPU, otherCPU  float64 // % of one core
	stealCPU              float64 // % of one core
	serverDrops, genDrops uint64
	bad, stray            uint64
	sendErrs, echoErrs    uint64
	note                  string
}

func bench(ctx context.Context, o options, kind string, stderr io.Writer) (res result, err error) {
	res.server = kind
	progress := func(format string, a ...any) { fmt.Fprintf(stderr, "# %s: "+format+"\n", append([]any{kind}, a...)...) }
	dir, err := os.MkdirTemp("", "soitto-turnbench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	var sb [16]byte
	rand.Read(sb[:])
	secret := hex.EncodeToString(sb[:])
	port, err := freeUDPPort()
	if err != nil {
		return res, err
	}
	srvAddr := netip.AddrPortFrom(loopback, uint16(port))
	srv, err := startServer(kind, o, srvAddr, secret, dir)
	if err != nil {
		return res, err
	}
	defer func() {
		if e := srv.stop(); e != nil && err == nil {
			err = e
		}
	}()
	if err := waitReady(ctx, srvAddr, srv); err != nil {
		return res, err
	}
	g, err := newGen(o, srvAddr, secret)
	if err != nil {
		return res, err
	}
	defer g.close()
	g.startReading()
	progress("relay pid %d at %v; making %d allocations at %d/s", srv.cmd.Process.Pid, srvAddr, o.allocations, o.ramp)
	t := time.Now()
	rctx, cancel := context.WithTimeout(ctx, o.rampLimit())
	res.allocs, res.failed, res.firstErr = g.makeAllocations(rctx)
	cancel()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if res.allocs == 0 {
		return res, fmt.Errorf("no allocation made: %s", res.firstErr)
	}
	res.rampSecs = time.Since(t).Seconds()
	progress("%d allocations in %.1fs (%d failed); traffic starts, %v at full load before the window", res.allocs, res.rampSecs, res.failed, o.settle)
	g.startSending()
	if err := sleep(ctx, o.settle); err != nil {
		return res, err
	}

	pid := srv.cmd.Process.Pid
	drops0 := readUDPDrops()
	cpu0, err := cpuNow(pid)
	if err != nil {
		return res, err
	}
	if err := srv.command("start"); err != nil {
		return res, err
	}
	g.phase.Store(phaseWindow)
	progress("measuring for %v", o.duration)
	if err := sleep(ctx, o.duration); err != nil {
		return res, err
	}
	g.phase.Store(phaseAfter)
	cpu1, err := cpuNow(pid)
	if err != nil {
		return res, err
	}
	drops1 := readUDPDrops()
	if res.note, err = srv.endWindow(); err != nil {
		return res, err
	}
	// Late packets of the window arrive while the load goes on.
	if err := sleep(ctx, time.Second); err != nil {
		return res, err
	}
	g.stopSending()
	time.Sleep(300 * time.Millisecond)
	g.stopReading()

	res.window = cpu1.at.Sub(cpu0.at)
	secs := res.window.Seconds()
	res.serverCPU = 100 * float64(cpu1.server-cpu0.server) / userHz / secs
	res.genCPU = 100 * (cpu1.self - cpu0.self).Seconds() / secs
	if tot := cpu1.machTotal - cpu0.machTotal; tot > 0 {
		core := func(ticks uint64) float64 { return 100 * float64(runtime.NumCPU()) * float64(ticks) / float64(tot) }
		res.softirqCPU = core(cpu1.machIRQ - cpu0.machIRQ)
		res.otherCPU = max(0, core(cpu1.machBusy+cpu1.machIRQ-cpu0.machBusy-cpu0.machIRQ)-res.serverCPU-res.genCPU)
		res.stealCPU = core(cpu1.machSteal - cpu0.machSteal)
	}
	res.serverDrops = dropsOf(socketInodes(pid), drops0, drops1)
	res.genDrops = dropsOf(socketInodes(os.Getpid()), drops0, drops1)
	for _, a := range g.allocs {
		if !a.ready.Load() {
			continue
		}
		up, down := a.peerRecv.Load(), a.echoRecv.Load()
		res.upSent += uint64(a.sent)
		res.upRecv += uint64(up)
		res.downSent += uint64(a.echoSent.Load())
		res.downRecv += uint64(down)
		if sent := uint64(a.sent) + uint64(a.echoSent.Load()); sent > 0 {
			res.worstAlloc = max(res.worstAlloc, 100*float64(sent-min(sent, uint64(up)+uint64(down)))/float64(sent))
		}
	}
	res.bad, res.stray, res.sendErrs, res.echoErrs = g.bad.Load(), g.stray.Load(), g.sendErrs.Load(), g.echoErrs.Load()
	progress("sent %d, received %d", res.upSent+res.downSent, res.upRecv+res.downRecv)
	return res, nil
}

func printResults(w io.Writer, o options, rs []result) {
	fmt.Fprintln(w)
	tb := texttable.New(w, "server", "allocs", "window s", "pkts/s", "sent", "received", "loss %", "up loss %", "down loss %",
		"worst alloc %", "server CPU %", "gen CPU %", "softirq %", "other CPU %", "steal %", "server drops", "gen drops")
	pct := func(sent, recv uint64) string {
		if sent == 0 {
			return "-"
		}
		return strconv.FormatFloat(100*float64(sent-min(sent, recv))/float64(sent), 'f', 2, 64)
	}
	f1 := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	for _, r := range rs {
		sent, recv := r.upSent+r.downSent, r.upRecv+r.downRecv
		tb.Row(r.server, strconv.Itoa(r.allocs), strconv.FormatFloat(r.window.Seconds(), 'f', 1, 64),
			strconv.FormatFloat(float64(sent)/r.window.Seconds(), 'f', 0, 64),
			strconv.FormatUint(sent, 10), strconv.FormatUint(recv, 10), pct(sent, recv),
			pct(r.upSent, r.upRecv), pct(r.downSent, r.downRecv), strconv.FormatFloat(r.worstAlloc, 'f', 2, 64),
			f1(r.serverCPU), f1(r.genCPU), f1(r.softirqCPU), f1(r.otherCPU), f1(r.stealCPU),
			strconv.FormatUint(r.serverDrops, 10), strconv.FormatUint(r.genDrops, 10))
	}
	tb.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "up = client → relay → peer; down = the peer's echo, peer → relay → client (its sent = what the peer got and echoed).")
	fmt.Fprintln(w, "pkts/s and sent/received: both directions, packets sent in the window only. worst alloc: the allocation that lost most, both directions.")
	fmt.Fprintln(w, "server/gen CPU: utime+stime of the relay process / of this generator; softirq: the machine's softirq time (/proc/stat; mostly loopback delivery, partly inside the server/gen figures, as it runs in whichever process sent the packet); other: the rest of the machine's busy time (other processes, kernel threads, softirq not charged to either); steal: taken by the hypervisor; server+gen+other+steal+idle = all cores.")
	fmt.Fprintln(w, "drops: packets dropped in the window by full socket receive queues (/proc/net/udp) on the relay's sockets / on the generator's.")
	for _, r := range rs {
		var notes []string
		if r.allocs < o.allocations {
			n := fmt.Sprintf("%d of %d allocations made in %.0fs: %d failed (first: %s)", r.allocs, o.allocations, r.rampSecs, r.failed, r.firstErr)
			if untried := o.allocations - r.allocs - r.failed; untried > 0 {
				n += fmt.Sprintf(", %d not tried within the ramp limit of %v", untried, o.rampLimit())
			}
			notes = append(notes, n)
		}
		if r.stray > 0 {
			notes = append(notes, fmt.Sprintf("%d late STUN answers to retransmitted setup requests ignored", r.stray))
		}
		if r.bad > 0 || r.sendErrs > 0 || r.echoErrs > 0 {
			notes = append(notes, fmt.Sprintf("%d unexpected packets, %d client send errors, %d echo send errors", r.bad, r.sendErrs, r.echoErrs))
		}
		if r.note != "" {
			notes = append(notes, r.note)
		}
		if len(notes) > 0 {
			fmt.Fprintf(w, "%s: %s\n", r.server, strings.Join(notes, "; "))
		}
	}
}

// ---- the relay processes ----

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

// ---- the load generator ----

// alloc is one TURN client: its socket, relay allocation and counts of
// the packets of the window.
type alloc struct {
	idx   int
	fd    int
	ready atomic.Bool // fd set, channel bound

	sent     uint32 // by its sender goroutine, read once senders stopped
	peerRecv atomic.Uint32
	echoSent atomic.Uint32
	echoRecv atomic.Uint32
}

type peer struct {
	fd   int
	addr netip.AddrPort
}

type gen struct {
	o      options
	server netip.AddrPort
	secret string
	allocs []*alloc
	peers  []peer
	epfds  []int
	phase  atomic.Uint32

	stopSend, stopRead atomic.Bool
	sendWG, readWG     sync.WaitGroup
	closeOnce          sync.Once

	bad, stray, sendErrs, echoErrs atomic.Uint64
}

func newGen(o options, server netip.AddrPort, secret string) (*gen, error) {
	g := &gen{o: o, server: server, secret: secret}
	for i := range o.allocations {
		g.allocs = append(g.allocs, &alloc{idx: i, fd: -1})
	}
	for range o.peers {
		fd, addr, err := peerSocket()
		if err != nil {
			g.close()
			return nil, err
		}
		g.peers = append(g.peers, peer{fd, addr})
	}
	for range o.readers {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			g.close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		g.epfds = append(g.epfds, fd)
	}
	return g, nil
}

func (g *gen) startReading() {
	for _, p := range g.peers {
		g.readWG.Add(1)
		go g.peerLoop(p)
	}
	for _, ep := range g.epfds {
		g.readWG.Add(1)
		go g.readLoop(ep)
	}
}

// startSending starts the sender goroutines, spread evenly over the
// packet interval.
func (g *gen) startSending() {
	period := time.Second / time.Duration(g.o.pps)
	groups := (len(g.allocs) + g.o.group - 1) / g.o.group
	for i := range groups {
		g.sendWG.Add(1)
		go g.sendLoop(g.allocs[i*g.o.group:min(len(g.allocs), (i+1)*g.o.group)], period*time.Duration(i)/time.Duration(groups))
	}
}

func (g *gen) stopSending() {
	g.stopSend.Store(true)
	g.sendWG.Wait()
}

func (g *gen) stopReading() {
	g.stopRead.Store(true)
	g.readWG.Wait()
}

// close stops every goroutine and closes every socket.
func (g *gen) close() {
	g.closeOnce.Do(func() {
		g.stopSending()
		g.stopReading()
		for _, a := range g.allocs {
			if a.fd >= 0 {
				syscall.Close(a.fd)
			}
		}
		for _, p := range g.peers {
			syscall.Close(p.fd)
		}
		for _, ep := range g.epfds {
			syscall.Close(ep)
		}
	})
}

// makeAllocations makes the allocations at the ramp rate, with a few
// workers (each a blocking socket at a time).
func (g *gen) makeAllocations(ctx context.Context) (made, failed int, firstErr string) {
	jobs := make(chan *alloc)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range jobs {
				err := g.setup(a)
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					made++
				}
				mu.Unlock()
			}
		}()
	}
	tick := time.NewTicker(time.Second / time.Duration(g.o.ramp))
	defer tick.Stop()
loop:
	for _, a := range g.allocs {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		jobs <- a
	}
	close(jobs)
	wg.Wait()
	return made, failed, firstErr
}

var udpTransport = stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}}

type setterFunc func(*stun.Message) error

func (f setterFunc) AddTo(m *stun.Message) error { return f(m) }

// setup makes a's socket, allocation and channel to its peer.
func (g *gen) setup(a *alloc) error {
	fd, err := clientSocket(g.server, 500*time.Millisecond)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			syscall.Close(fd)
		}
	}()
	allocate := stun.NewType(stun.MethodAllocate, stun.ClassRequest)
	res, err := transact(fd, stun.MustBuild(stun.TransactionID, allocate, udpTransport), 4)
	if err != nil {
		return fmt.Errorf("allocate: %w", err)
	}
	var nonce stun.Nonce
	if err := nonce.GetFrom(res); err != nil {
		return fmt.Errorf("allocate: no nonce in the first answer (%v)", res.Type)
	}
	user, pass := nat.RESTCredentials([]byte(g.secret), "bench-"+strconv.Itoa(a.idx), time.Now().Add(time.Hour))
	authed := func(setters ...stun.Setter) (*stun.Message, error) {
		for range 3 {
			m, err := stun.Build(append(append([]stun.Setter{stun.TransactionID}, setters...),
				stun.NewUsername(user), stun.NewRealm(realm), nonce, stun.NewLongTermIntegrity(user, realm, pass))...)
			if err != nil {
				return nil, err
			}
			res, err := transact(fd, m, 4)
			if err != nil {
				return nil, err
			}
			if res.Type.Class == stun.ClassSuccessResponse {
				return res, nil
			}
			var code stun.ErrorCodeAttribute
			code.GetFrom(res)
			if code.Code != stun.CodeStaleNonce {
				return nil, fmt.Errorf("error %d %s", code.Code, code.Reason)
			}
			if err := nonce.GetFrom(res); err != nil {
				return nil, errors.New("stale nonce without a new one")
			}
		}
		return nil, errors.New("nonce stale three times")
	}
	if _, err := authed(allocate, udpTransport); err != nil {
		return fmt.Errorf("allocate: %w", err)
	}
	p := g.peers[a.idx%len(g.peers)].addr
	peerAddr := stun.XORMappedAddress{IP: p.Addr().AsSlice(), Port: int(p.Port())}
	if _, err := authed(stun.NewType(stun.MethodChannelBind, stun.ClassRequest),
		stun.RawAttribute{Type: stun.AttrChannelNumber, Value: []byte{channelNumber >> 8, channelNumber & 0xff, 0, 0}},
		setterFunc(func(m *stun.Message) error { return peerAddr.AddToAs(m, stun.AttrXORPeerAddress) })); err != nil {
		return fmt.Errorf("channel bind: %w", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return err
	}
	// The event carries the socket and the allocation's index.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd), Pad: int32(a.idx)}
	if err := syscall.EpollCtl(g.epfds[a.idx%len(g.epfds)], syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll: %w", err)
	}
	ok = true
	a.fd = fd
	a.ready.Store(true)
	return nil
}

// transact sends m on the connected blocking socket fd (its receive
// timeout set) up to tries times until the answer with m's transaction
// ID comes.
func transact(fd int, m *stun.Message, tries int) (*stun.Message, error) {
	buf := make([]byte, 1500)
	for range tries {
		if _, err := syscall.Write(fd, m.Raw); err != nil {
			return nil, err
		}
		for {
			n, err := syscall.Read(fd, buf)
			if err == syscall.EINTR {
				continue
			}
			if err != nil {
				break // timeout: send again
			}
			res := &stun.Message{Raw: append([]byte(nil), buf[:n]...)}
			if res.Decode() != nil || res.TransactionID != m.TransactionID {
				continue
			}
			return res, nil
		}
	}
	return nil, errors.New("no answer")
}

// sendLoop sends one packet from each of its allocations every period,
// starting offset into it; a round missed by a late wake-up is made up
// (at most 5).
func (g *gen) sendLoop(group []*alloc, offset time.Duration) {
	defer g.sendWG.Done()
	period := time.Second / time.Duration(g.o.pps)
	buf := make([]byte, 4+g.o.size)
	binary.BigEndian.PutUint16(buf[0:], channelNumber)
	binary.BigEndian.PutUint16(buf[2:], uint16(g.o.size))
	time.Sleep(offset)
	start := time.Now()
	tick := time.NewTicker(period)
	defer tick.Stop()
	var seq uint32
	done := 0
	for !g.stopSend.Load() {
		due := int(time.Since(start)/period) + 1
		done = max(done, due-5)
		for ; done < due; done++ {
			phase := g.phase.Load()
			binary.BigEndian.PutUint32(buf[8:], seq)
			buf[12] = byte(phase)
			for _, a := range group {
				if !a.ready.Load() {
					continue
				}
				binary.BigEndian.PutUint32(buf[4:], uint32(a.idx))
				if _, err := syscall.Write(a.fd, buf); err != nil {
					g.sendErrs.Add(1)
					continue
				}
				if phase == phaseWindow {
					a.sent++
				}
			}
			seq++
		}
		<-tick.C
	}
}

// parse reads a packet's allocation index and phase.
func (g *gen) parse(p []byte) (*alloc, uint32, bool) {
	if len(p) < payloadMin {
		return nil, 0, false
	}
	idx := binary.BigEndian.Uint32(p)
	if idx >= uint32(len(g.allocs)) {
		return nil, 0, false
	}
	return g.allocs[idx], uint32(p[8]), true
}

// readLoop reads the clients' sockets registered on epfd: the echoes,
// as ChannelData.
func (g *gen) readLoop(epfd int) {
	defer g.readWG.Done()
	events := make([]syscall.EpollEvent, 256)
	buf := make([]byte, 2048)
	for !g.stopRead.Load() {
		n, err := syscall.EpollWait(epfd, events, 0)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			return
		}
		for _, ev := range events[:n] {
			a := g.allocs[ev.Pad]
			// Level-triggered: what is left is reported again.
			m, err := syscall.Read(int(ev.Fd), buf)
			if err != nil {
				continue
			}
			p := buf[:m]
			if m >= 20 && p[0] < 0x40 && stun.IsMessage(p) {
				g.stray.Add(1) // a late answer to a retransmitted setup request
				continue
			}
			if len(p) < 4 || binary.BigEndian.Uint16(p) != channelNumber || int(binary.BigEndian.Uint16(p[2:])) > len(p)-4 {
				g.bad.Add(1)
				continue
			}
			b, phase, ok := g.parse(p[4 : 4+binary.BigEndian.Uint16(p[2:])])
			if !ok || b != a {
				g.bad.Add(1)
				continue
			}
			if phase == phaseWindow {
				a.echoRecv.Add(1)
			}
		}
		if n < len(events) {
			time.Sleep(pollInterval)
		}
	}
}

// mmsghdr is struct mmsghdr of linux/amd64 and linux/arm64.
type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// pollInterval is how long readers sleep when they found their sockets
// drained: polling in batches costs the generator far fewer wake-ups and
// context switches than blocking on every packet; the packets wait in the
// sockets' queues meanwhile (large ones on the peers).
const pollInterval = time.Millisecond

var sysSendmmsg = map[string]uintptr{"amd64": 307, "arm64": 269}[runtime.GOARCH]

func mmsg(trap uintptr, fd int, ms []mmsghdr, flags int) (int, error) {
	n, _, e := syscall.Syscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&ms[0])), uintptr(len(ms)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// peerLoop is a peer socket: it counts what the relay brings and, with
// echo, sends each packet back where it came from, in batches.
func (g *gen) peerLoop(p peer) {
	defer g.readWG.Done()
	const batch = 64
	bufs := make([]byte, batch*2048)
	names := make([]syscall.RawSockaddrInet4, batch)
	iovs := make([]syscall.Iovec, batch)
	in := make([]mmsghdr, batch)
	out := make([]mmsghdr, batch)
	outIovs := make([]syscall.Iovec, batch)
	outAllocs := make([]*alloc, batch)
	outPhase := make([]uint32, batch)
	for i := range in {
		iovs[i].Base = &bufs[i*2048]
		iovs[i].SetLen(2048)
		in[i].hdr.Iov = &iovs[i]
		in[i].hdr.Iovlen = 1
		in[i].hdr.Name = (*byte)(unsafe.Pointer(&names[i]))
	}
	for !g.stopRead.Load() {
		for i := range in {
			in[i].hdr.Namelen = syscall.SizeofSockaddrInet4
		}
		n, err := mmsg(syscall.SYS_RECVMMSG, p.fd, in, syscall.MSG_DONTWAIT)
		if err == syscall.EAGAIN || err == syscall.EINTR {
			n, err = 0, nil
		}
		if err != nil {
			return
		}
		k := 0
		for i := range n {
			pkt := bufs[i*2048 : i*2048+int(in[i].n)]
			a, phase, ok := g.parse(pkt)
			if !ok {
				g.bad.Add(1)
				continue
			}
			if phase == phaseWindow {
				a.peerRecv.Add(1)
			}
			if !g.o.echo {
				continue
			}
			outIovs[k] = syscall.Iovec{Base: &pkt[0]}
			outIovs[k].SetLen(len(pkt))
			out[k].hdr = syscall.Msghdr{Name: in[i].hdr.Name, Namelen: in[i].hdr.Namelen, Iov: &outIovs[k], Iovlen: 1}
			outAllocs[k], outPhase[k] = a, phase
			k++
		}
		for sent := 0; sent < k; {
			m, err := mmsg(sysSendmmsg, p.fd, out[sent:k], 0)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || m == 0 {
				// The first message failed: skip it.
				g.echoErrs.Add(1)
				sent++
				continue
			}
			for j := sent; j < sent+m; j++ {
				if outPhase[j] == phaseWindow {
					outAllocs[j].echoSent.Add(1)
				}
			}
			sent += m
		}
		if n < batch {
			time.Sleep(pollInterval)
		}
	}
}

// ---- sockets ----

func sockaddr(ap netip.AddrPort) *syscall.SockaddrInet4 {
	return &syscall.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
}

var loopback = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// clientSocket is a blocking UDP socket on 127.0.0.1 connected to
// server, reads timing out after timeout.
func clientSocket(server netip.AddrPort, timeout time.Duration) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	tv := syscall.NsecToTimeval(timeout.Nanoseconds())
	if err := syscall.Bind(fd, sockaddr(netip.AddrPortFrom(loopback, 0))); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("bind: %w", err)
	}
	if err := syscall.Connect(fd, sockaddr(server)); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("connect: %w", err)
	}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// peerSocket is a UDP socket on 127.0.0.1 with large buffers (so that
// the generator's own queues are not where packets are lost), read with
// MSG_DONTWAIT.
func peerSocket() (int, netip.AddrPort, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, netip.AddrPort{}, fmt.Errorf("socket: %w", err)
	}
	if err := syscall.Bind(fd, sockaddr(netip.AddrPortFrom(loopback, 0))); err != nil {
		syscall.Close(fd)
		return -1, netip.AddrPort{}, fmt.Errorf("bind: %w", err)
	}
	for _, o := range [][2]int{{syscall.SO_RCVBUFFORCE, syscall.SO_RCVBUF}, {syscall.SO_SNDBUFFORCE, syscall.SO_SNDBUF}} {
		if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, o[0], 8<<20) != nil {
			syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, o[1], 8<<20) // capped by net.core.*mem_max
		}
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	return fd, netip.AddrPortFrom(loopback, uint16(sa.(*syscall.SockaddrInet4).Port)), nil
}

// freeUDPPort is a UDP port free on 127.0.0.1 now, outside the relay
// range (the kernel picks it from the ephemeral range).
func freeUDPPort() (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, sockaddr(netip.AddrPortFrom(loopback, 0))); err != nil {
		return 0, err
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return 0, err
	}
	return sa.(*syscall.SockaddrInet4).Port, nil
}

func raiseFDLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

func fdLimit() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	return lim.Cur
}

// ---- /proc ----

type cpuSample struct {
	at     time.Time
	server uint64 // utime+stime of the relay process, in 1/userHz s
	self   time.Duration
	// /proc/stat, all cores: busy in processes (user, nice, system),
	// interrupts (irq, softirq), steal, all.
	machBusy, machIRQ, machSteal, machTotal uint64
}

func cpuNow(pid int) (cpuSample, error) {
	s := cpuSample{at: time.Now()}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return s, err
	}
	// Fields after the command name (which may hold spaces) in ")".
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("/proc/%d/stat: short", pid)
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64) // field 14
	st, _ := strconv.ParseUint(f[12], 10, 64) // field 15
	s.server = ut + st
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, err
	}
	s.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			switch {
			case i > 7: // guest time is already in user
			case i == 7:
				s.machSteal += n
				s.machTotal += n
			case i == 3 || i == 4: // idle, iowait
				s.machTotal += n
			case i == 5 || i == 6: // irq, softirq
				s.machIRQ += n
				s.machTotal += n
			default:
				s.machBusy += n
				s.machTotal += n
			}
		}
	}
	return s, nil
}

// readUDPDrops is the drops counter of every UDP socket by inode.
func readUDPDrops() map[uint64]uint64 {
	m := map[uint64]uint64{}
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(l)
		if len(f) < 13 {
			continue
		}
		ino, err1 := strconv.ParseUint(f[9], 10, 64)
		d, err2 := strconv.ParseUint(f[12], 10, 64)
		if err1 == nil && err2 == nil {
			m[ino] = d
		}
	}
	return m
}

// socketInodes are the inodes of the sockets process pid has open.
func socketInodes(pid int) map[uint64]bool {
	m := map[uint64]bool{}
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return m
	}
	for _, e := range ents {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if s, ok := strings.CutPrefix(l, "socket:["); ok {
			if ino, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); err == nil {
				m[ino] = true
			}
		}
	}
	return m
}

func dropsOf(inodes map[uint64]bool, before, after map[uint64]uint64) uint64 {
	var n uint64
	for ino, d := range after {
		if inodes[ino] && d >= before[ino] {
			n += d - before[ino]
		}
	}
	return n
}

func sysctl(name string) string {
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

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
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"soitto/internal/texttable"
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

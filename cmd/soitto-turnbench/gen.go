//go:build linux && (amd64 || arm64)

package main

// The load generator: allocations, channel data senders, readers and echoing peers.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"soitto/nat"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/pion/stun/v4"
)

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

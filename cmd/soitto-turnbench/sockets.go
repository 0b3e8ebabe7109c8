//go:build linux && (amd64 || arm64)

package main

// Raw UDP sockets and file descriptor limits.

import (
	"fmt"
	"net/netip"
	"syscall"
	"time"
)

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

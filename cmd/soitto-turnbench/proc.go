//go:build linux && (amd64 || arm64)

package main

// CPU and socket drop counters from /proc.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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

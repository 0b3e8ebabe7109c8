package main

import (
	"runtime"
	"runtime/debug"
)

// memSample is what the node process reports about itself.
type memSample struct {
	Label      string `json:"label"`
	Clients    int    `json:"clients"`    // node.Clients()
	FDs        int    `json:"fds"`        // open file descriptors: links, listener, a few more
	Goroutines int    `json:"goroutines"` // runtime.NumGoroutine
	HeapInuse  uint64 `json:"heap_inuse"`
	HeapAlloc  uint64 `json:"heap_alloc"`
	Objects    uint64 `json:"heap_objects"`
	StackInuse uint64 `json:"stack_inuse"`
	Sys        uint64 `json:"sys"`
	RSS        uint64 `json:"rss"`
}

// measure collects garbage until the figures are those of live data:
// each collection may halve a goroutine stack that uses under a quarter
// of it, so four let a stack grown by a handshake shrink back to what an
// idle reader needs; FreeOSMemory then returns free pages, so that VmRSS
// is comparable between samples.
func measure(label string, clients, fds int) memSample {
	for range 4 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{
		Label: label, Clients: clients, FDs: fds,
		Goroutines: runtime.NumGoroutine(),
		HeapInuse:  ms.HeapInuse, HeapAlloc: ms.HeapAlloc, Objects: ms.HeapObjects,
		StackInuse: ms.StackInuse, Sys: ms.Sys, RSS: vmRSS(),
	}
}

package main

import (
	"fmt"
	"math"
	"time"
)

func halfLog2(n int) float64 { return math.Log2(float64(n)) / 2 }

// ms formats a duration in milliseconds with enough digits for
// sub-millisecond CPU times.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// secs formats a virtual time in seconds.
func secs(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }

package main

import (
	"slices"
	"time"
)

// mean of xs, 0 for none.
func mean[T int | float64 | time.Duration](xs []T) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += float64(x)
	}
	return sum / float64(len(xs))
}

// quantile q (0..1) of xs by the nearest-rank method; xs is sorted in
// place.
func quantile[T int | float64 | time.Duration](xs []T, q float64) T {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(q*float64(len(xs))+0.999999) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

package username

import (
	"strings"
	"testing"
)

func BenchmarkNormalize(b *testing.B) {
	for _, bb := range []struct{ name, in string }{
		{"ASCII", "alice.smith"},
		{"fullwidth", "ＡＬＩＣＥ"},
		{"Japanese", "やまだ太郎"},
		{"mixed script", "\u0430lice"},
		{"invisible", strings.Repeat("a\u200b", 50)},
		{"too long", strings.Repeat("a", 1<<20)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				Normalize(bb.in)
			}
		})
	}
}

func BenchmarkSkeleton(b *testing.B) {
	for b.Loop() {
		Skeleton("alice.smith")
	}
}

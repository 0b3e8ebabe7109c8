package username

import "testing"

func TestSkeletonCollides(t *testing.T) {
	tests := []struct {
		name, a, b string
	}{
		{"whole-script Cyrillic", "alice", "\u0430\u04cf\u0456\u0441\u0435"}, // аӏісе
		{"whole-script Cyrillic paypal", "paypal", "\u0440\u0430\u0443\u0440\u0430\u04cf"},
		{"whole-script Greek", "opo", "\u03bf\u03c1\u03bf"},
		{"separators dropped", "alice", "a.lice"},
		{"all separators", "a_l-i.ce", "alice"},
		{"one and ell", "ali1ce", "alllce"},
		{"zero and o", "b0b", "bob"},
		{"rn and m", "modern", "rnodern"},
		{"vv and w", "wendy", "vvendy"},
		{"Greek nu nu and w", "\u03bd\u03bd", "w"},
		{"Cyrillic yi and Latin i diaeresis", "\u0457", "\u00ef"},
		{"Katakana ka and Han power", "\u30ab", "\u529b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := Skeleton(tt.a), Skeleton(tt.b); a != b {
				t.Errorf("Skeleton(%q) = %q, Skeleton(%q) = %q: got different, want equal", tt.a, a, tt.b, b)
			}
		})
	}
}

func TestSkeletonDiffers(t *testing.T) {
	tests := []struct {
		name, a, b string
	}{
		{"different names", "alice", "bob"},
		{"accent kept", "jose", "josé"},
		{"m and n", "anna", "amma"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := Skeleton(tt.a), Skeleton(tt.b); a == b {
				t.Errorf("Skeleton(%q) = Skeleton(%q) = %q: got equal, want different", tt.a, tt.b, a)
			}
		})
	}
}

// The look-alike of a registered name must pass Normalize, or the skeleton
// check would never be reached; it is the skeleton that refuses it.
func TestSkeletonOfNormalizedLookalike(t *testing.T) {
	latin, err := Normalize("Alice")
	if err != nil {
		t.Fatalf("Normalize(Alice): got %v, want nil", err)
	}
	cyrillic, err := Normalize("\u0410\u04c0\u0406\u0421\u0415") // АӀІСЕ, all Cyrillic capitals
	if err != nil {
		t.Fatalf("Normalize(АӀІСЕ): got %v, want nil", err)
	}
	if got, want := Skeleton(cyrillic), Skeleton(latin); got != want {
		t.Errorf("Skeleton(%q): got %q, want %q", cyrillic, got, want)
	}
}

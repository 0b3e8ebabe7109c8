package username

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeAccepts(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lowercase", "alice", "alice"},
		{"case mapped", "Alice", "alice"},
		{"fullwidth upper", "ＡＬＩＣＥ", "alice"},
		{"fullwidth lower", "ａｌｉｃｅ", "alice"},
		{"fullwidth punctuation", "ａ．ｂ＿ｃ－ｄ", "a.b_c-d"},
		{"digits", "r2d2", "r2d2"},
		{"starts with digit", "007bond", "007bond"},
		{"separators", "a.b_c-d", "a.b_c-d"},
		{"decomposed accent composed", "jose\u0301", "josé"},
		{"min length", "abc", "abc"},
		{"max length", strings.Repeat("a", MaxLength), strings.Repeat("a", MaxLength)},
		{"Cyrillic", "Иван", "иван"},
		{"Greek", "Αλέξης", "αλέξης"},
		{"Japanese kana and kanji", "やまだ太郎", "やまだ太郎"},
		{"Japanese prolonged sound mark", "ラーメン", "ラーメン"},
		{"Korean", "김민준", "김민준"},
		{"Korean with Hanja", "金민준", "金민준"},
		{"Hebrew", "דוד", "דוד"},
		{"Arabic with digits", "علي٣", "علي٣"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if err != nil {
				t.Fatalf("Normalize(%q): got error %v, want %q", tt.in, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("Normalize(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeRefuses(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrEmpty},
		{"too short", "ab", ErrTooShort},
		{"too short fullwidth", "ＡＢ", ErrTooShort},
		{"too long", strings.Repeat("a", MaxLength+1), ErrTooLong},
		{"too many bytes", strings.Repeat("a", maxInputBytes+1), ErrTooLong},
		{"too many bytes of invisibles", strings.Repeat("\u200b", 1000), ErrTooLong},
		{"invalid UTF-8", "ali\xffce", ErrInvalid},
		{"zero width space", "a\u200bbc", ErrInvalid},
		{"zero width non-joiner", "a\u200cbc", ErrInvalid},
		{"zero width joiner", "a\u200dbc", ErrInvalid},
		{"word joiner", "a\u2060bc", ErrInvalid},
		{"byte order mark", "\ufeffabc", ErrInvalid},
		{"soft hyphen", "a\u00adbc", ErrInvalid},
		{"combining grapheme joiner", "a\u034fbc", ErrInvalid},
		{"variation selector", "a\ufe0fbc", ErrInvalid},
		{"Hangul filler", "a\u3164bc", ErrInvalid},
		{"right-to-left override", "\u202eecila", ErrInvalid},
		{"space", "al ice", ErrInvalid},
		{"ideographic space", "al\u3000ice", ErrInvalid},
		{"tab", "al\tice", ErrInvalid},
		{"newline", "alice\n", ErrInvalid},
		{"NUL", "al\x00ice", ErrInvalid},
		{"symbol", "al!ce", ErrInvalid},
		{"at sign", "alice@example", ErrInvalid},
		{"emoji", "alice😀", ErrInvalid},
		{"combining mark left over", "İstanbul", ErrInvalid},
		{"modifier letter apostrophe", "o\u02bcbrien", ErrInvalid},
		{"modifier letter colon", "a\u02d0bc", ErrInvalid},
		{"middle dot", "l\u00b7la", ErrInvalid},
		{"starts with dot", ".alice", ErrInvalid},
		{"starts with underscore", "_alice", ErrInvalid},
		{"starts with hyphen", "-alice", ErrInvalid},
		{"ends with dot", "alice.", ErrInvalid},
		{"ends with underscore", "alice_", ErrInvalid},
		{"ends with hyphen", "alice-", ErrInvalid},
		{"two dots", "al..ice", ErrInvalid},
		{"dot underscore", "al._ice", ErrInvalid},
		{"hyphen hyphen", "al--ice", ErrInvalid},
		{"Cyrillic a among Latin", "\u0430lice", ErrMixedScript},
		{"Greek omicron among Latin", "b\u03bfb", ErrMixedScript},
		{"Latin among Cyrillic", "иванa", ErrMixedScript},
		{"Arabic digit with Latin", "alice\u0663", ErrMixedScript},
		{"Hebrew and Latin", "abcדוד", ErrMixedScript},
		{"Japanese and Latin", "やまだtaro", ErrMixedScript},
		{"Hangul and Katakana", "민준カ", ErrMixedScript},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Normalize(%q) = %q, %v: got %v, want %v", tt.in, got, err, err, tt.want)
			}
			if got != "" {
				t.Errorf("Normalize(%q): got %q with error, want \"\"", tt.in, got)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") {
				t.Errorf("Normalize(%q): got message %q, want one line", tt.in, msg)
			}
		})
	}
}

func TestNormalizeMessages(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"a\u200bb", `username "a\u200bb": contains U+200B ZERO WIDTH SPACE, which is not allowed`},
		{"\u0430lice", `username "аlice" mixes Latin and Cyrillic letters`},
		{"al!ce", `username "al!ce": contains "!" (U+0021 EXCLAMATION MARK), which is not allowed`},
		{"ab", `username "ab" is too short: 2 characters, need at least 3`},
		{"alice.", `username "alice." must not end with '.'`},
		{"al._ice", `username "al._ice" must not have "._" in a row`},
		{"a\u3164bc", `username "a\u3164bc": contains U+3164 HANGUL FILLER, which is not allowed`},
		{"al\x00ice", `username "al\x00ice": contains U+0000 (a control character), which is not allowed`},
		{"\u0301abc", `username "\u0301abc": contains U+0301 COMBINING ACUTE ACCENT, which is not allowed`},
		{"ali\xffce", `username "ali\xffce" is not valid UTF-8`},
		{"1דוד", `username "1דוד" breaks the Bidi Rule of RFC 5893: a right-to-left name must start with a letter and not mix kinds of digits`},
		{"", `username is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Normalize(tt.in)
			if err == nil {
				t.Fatalf("Normalize(%q): got nil, want %v", tt.in, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Normalize(%q): got %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	for _, in := range []string{"Alice", "ＡＬＩＣＥ", "jose\u0301", "Αλέξης", "ΣΟΦΟΣ", "やまだ太郎", "Straße"} {
		t.Run(in, func(t *testing.T) {
			n, err := Normalize(in)
			if err != nil {
				t.Fatalf("Normalize(%q): got %v, want nil", in, err)
			}
			again, err := Normalize(n)
			if err != nil || again != n {
				t.Errorf("Normalize(%q): got %q, %v, want %q, nil", n, again, err, n)
			}
		})
	}
}

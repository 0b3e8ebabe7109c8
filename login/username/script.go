package username

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// scripts lists the scripts a letter may belong to, the common ones first
// so that most lookups end early. Common and Inherited are left out: a rune
// of theirs has no script of its own.
var scripts = func() []script {
	first := []string{"Latin", "Cyrillic", "Greek", "Han", "Hiragana", "Katakana", "Hangul", "Arabic", "Hebrew"}
	var rest []string
	for name := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && !slices.Contains(first, name) {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	var s []script
	for _, name := range append(first, rest...) {
		s = append(s, script{name, unicode.Scripts[name]})
	}
	return s
}()

type script struct {
	name  string
	table *unicode.RangeTable
}

// scriptOf returns the name of r's script (a key of unicode.Scripts), or ""
// if it has none of its own (Common or Inherited).
func scriptOf(r rune) string {
	switch r {
	case '\u30FC', '\u3006', '\u303C':
		// KATAKANA-HIRAGANA PROLONGED SOUND MARK, IDEOGRAPHIC CLOSING MARK
		// and MASU MARK are Common letters used only in Japanese.
		return "Katakana"
	}
	for _, s := range scripts {
		if unicode.Is(s.table, r) {
			return s.name
		}
	}
	return ""
}

// together lists sets of scripts that are written together in one name, as
// in UTS #39 §5.2 (Highly Restrictive), without its Latin.
var together = [][]string{
	{"Han", "Hiragana", "Katakana"}, // Japanese
	{"Han", "Hangul"},               // Korean
	{"Han", "Bopomofo"},             // Chinese with zhuyin
}

// checkScripts refuses n if its letters and non-ASCII digits come from more
// than one script (other than the combinations in together). ASCII digits
// and the separators are Common and belong to every script.
func checkScripts(s, n string) error {
	var seen []string         // in order of first appearance
	count := map[string]int{} // runes per script
	digits := false           // a digit carries a script
	for _, r := range n {
		sc := scriptOf(r)
		if sc == "" {
			continue
		}
		if count[sc] == 0 {
			seen = append(seen, sc)
		}
		count[sc]++
		digits = digits || unicode.IsDigit(r)
	}
	if len(seen) <= 1 {
		return nil
	}
	for _, group := range together {
		if allIn(seen, group) {
			return nil
		}
	}
	// Name the main script first: "mixes Latin and Cyrillic letters" for
	// a Latin name with one Cyrillic letter.
	slices.SortStableFunc(seen, func(a, b string) int { return count[b] - count[a] })
	what := "letters"
	if digits {
		what = "characters"
	}
	return errorf(ErrMixedScript, s, " mixes %s %s", list(seen), what)
}

func allIn(names, group []string) bool {
	for _, n := range names {
		if !slices.Contains(group, n) {
			return false
		}
	}
	return true
}

// list joins names as "A and B" or "A, B and C".
func list(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return fmt.Sprintf("%s and %s", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

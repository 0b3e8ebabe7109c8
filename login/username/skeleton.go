package username

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Skeleton returns the confusable skeleton of an already-normalized name
// (the result of Normalize): two names whose skeletons are equal look alike,
// and only one of them may be registered. The skeleton is a comparison key,
// to be stored and indexed next to the name, never shown.
//
// As in UTS #39 §4, the skeleton is computed on the NFD form, rune by rune
// through a table of look-alikes (see confusables), after which '.', '_' and
// '-' are dropped, so that "a.lice" and "alice" collide, and the sequences
// "rn" and "vv" become "m" and "w".
func Skeleton(normalized string) string {
	var b strings.Builder
	b.Grow(len(normalized))
	for _, r := range norm.NFD.String(normalized) {
		if isSeparator(r) {
			continue
		}
		if m, ok := confusables[r]; ok {
			r = m
		}
		b.WriteRune(r)
	}
	return sequences.Replace(b.String())
}

// sequences are look-alikes of more than one letter. They apply after
// confusables, so that a Greek "νν" becomes "w" too.
var sequences = strings.NewReplacer("rn", "m", "vv", "w")

// confusables maps a rune to the one it stands for in a skeleton.
//
// It is a small subset of UTS #39's confusables.txt, chosen on purpose. The
// full table has thousands of entries, maps to prototypes that are often not
// the letter users expect, and must be regenerated with each Unicode
// version. Names that reach Skeleton have already passed Normalize: they are
// lowercase, NFC, and of a single script, so the look-alikes left to catch
// are a whole name spelled in Cyrillic, Greek or Armenian letters that look
// Latin, Latin letters and digits that look like one another, and the
// Katakana/Han pairs a Japanese name may mix. That is what this table holds;
// extend it when abuse shows another pair.
//
// Where letters look alike among themselves, they all map to one of them:
// '1', 'i', 'l', '|' and their look-alikes to 'l'; '0' to 'o'.
var confusables = map[rune]rune{
	// Latin letters and digits.
	'0':      'o',
	'1':      'l',
	'i':      'l',
	'|':      'l',
	'\u0131': 'l', // ı LATIN SMALL LETTER DOTLESS I
	'\u0251': 'a', // ɑ LATIN SMALL LETTER ALPHA
	'\u0261': 'g', // ɡ LATIN SMALL LETTER SCRIPT G

	// Cyrillic.
	'\u0430': 'a', // а
	'\u0435': 'e', // е
	'\u043E': 'o', // о
	'\u0440': 'p', // р
	'\u0441': 'c', // с
	'\u0443': 'y', // у
	'\u0445': 'x', // х
	'\u0456': 'l', // і (as i)
	'\u0458': 'j', // ј
	'\u0455': 's', // ѕ
	'\u04AF': 'y', // ү
	'\u04BB': 'h', // һ
	'\u04CF': 'l', // ӏ PALOCHKA
	'\u0501': 'd', // ԁ
	'\u051B': 'q', // ԛ
	'\u051D': 'w', // ԝ

	// Greek.
	'\u03B1': 'a', // α
	'\u03B3': 'y', // γ
	'\u03B9': 'l', // ι (as i)
	'\u03BA': 'k', // κ
	'\u03BD': 'v', // ν
	'\u03BF': 'o', // ο
	'\u03C1': 'p', // ρ
	'\u03C4': 't', // τ
	'\u03C5': 'u', // υ
	'\u03C7': 'x', // χ
	'\u03F2': 'c', // ϲ LUNATE SIGMA
	'\u03F3': 'j', // ϳ

	// Armenian.
	'\u0570': 'h', // հ
	'\u0578': 'n', // ո
	'\u057D': 'u', // ս
	'\u0566': 'q', // զ
	'\u0585': 'o', // օ

	// Katakana and Hiragana that look like Han ideographs.
	'\u30FC': '\u4E00', // ー as 一 (one)
	'\u30A8': '\u5DE5', // エ as 工
	'\u30AB': '\u529B', // カ as 力
	'\u30BF': '\u5915', // タ as 夕
	'\u30C8': '\u535C', // ト as 卜
	'\u30CB': '\u4E8C', // ニ as 二
	'\u30CF': '\u516B', // ハ as 八
	'\u30ED': '\u53E3', // ロ as 口
	'\u3078': '\u30D8', // へ (Hiragana) as ヘ (Katakana)
}

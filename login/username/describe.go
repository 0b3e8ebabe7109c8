package username

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/runenames"
)

// describe names r for an error message: `"!" (U+0021 EXCLAMATION MARK)`
// for a visible character, `U+200B ZERO WIDTH SPACE` for one that would not
// show or would attach to the quote.
func describe(r rune) string {
	name := runenames.Name(r)
	if name == "" || strings.HasPrefix(name, "<") {
		name = ""
	}
	code := fmt.Sprintf("%U", r)
	switch {
	case name != "":
		code += " " + name
	case unicode.IsControl(r):
		code += " (a control character)"
	}
	if invisible(r) || unicode.Is(unicode.M, r) || !unicode.IsGraphic(r) {
		return code
	}
	return fmt.Sprintf("%q (%s)", string(r), code)
}

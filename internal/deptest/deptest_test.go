// Package deptest checks the layering DESIGN.md asks for: the core
// packages and the servers never link Fyne or the ui package.
package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

func TestCoreDoesNotImportFyne(t *testing.T) {
	pkgs := []string{
		"soitto/app/...", "soitto/login/...", "soitto/bootstrap/...",
		"soitto/cmd/soitto-login", "soitto/cmd/soitto-cli",
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}"}, pkgs...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("got %d dependencies, want many: is go list working?", len(deps))
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "fyne.io/") || d == "soitto/ui" || strings.HasPrefix(d, "soitto/ui/") || d == "soitto/assets" {
			t.Errorf("%s is linked into a core package or server; only ui/ and main.go may use it", d)
		}
	}
}

func TestOnlyMainImportsFyneApp(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}} {{join .TestImports \" \"}}", "soitto/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "soitto" {
			continue
		}
		for _, imp := range f[1:] {
			if imp == "fyne.io/fyne/v2/app" {
				t.Errorf("%s imports fyne.io/fyne/v2/app; only main.go may", f[0])
			}
		}
	}
}

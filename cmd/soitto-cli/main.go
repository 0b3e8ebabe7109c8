// Command soitto-cli is the Soitto client in a terminal: the same client
// core as the window, for scripts, machines without a screen, and tests.
//
//	soitto-cli [--profile DIR] [--network FILE] [--json] COMMAND
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"soitto/app"
)

const usage = `soitto-cli is the Soitto client in a terminal.

Usage:
  soitto-cli [--profile DIR] [--network FILE] [--json] COMMAND

Commands:
  register USER   create an account and a profile with a new identity key
  login [USER]    get a fresh 24-hour certificate (USER defaults to the last one used)
  whoami          show the current identity and certificate
  search USER     find USER's presence; print it and the rounds it took
  status STATE    online, away, dnd or invisible (a running listen publishes it at once)
  listen [--auto-answer] [--mic SRC] [--speaker SINK] [--accept-files DIR]
         [--super-peer [--super-peer-listen HOST:PORT] [--super-peer-uptime D]]
                  stay online; print one line per event until interrupted
                  (messages, files, calls, presence). --auto-answer takes
                  every call with SRC and SINK; --accept-files takes every file
                  a contact offers into DIR. With
                  --super-peer, become a super-peer when this machine has a public
                  address, mains power and D online (default 1h), and step down
                  when that stops being true
  ping USER [-c N]
                  open a P2P session to USER (who must be online); print the
                  path it took (direct or relay, UDP or TCP) and N round-trip times
  call USER [--mic SRC] [--speaker SINK] [--duration D]
                  ring USER; once answered, talk for D (default: until either
                  side hangs up or this is interrupted) and hang up
  chat USER TEXT  write to USER: delivered over a P2P session when USER is
                  online, else sealed to USER's key and left on the ring until
                  they collect it (a running listen sends it; kept as pending
                  and retried until delivered either way)
  send USER FILE  offer FILE to USER (online); once accepted, send it and follow
                  the transfer to its end, resuming after breaks
  net             NAT type, mapped address, attached super-peer, relay
  contacts list | add USER [MESSAGE] | accept USER | decline USER | remove USER
         | block USER | accept-key USER | safety USER | privacy contacts|everyone
                  the buddy list: a request both sides must accept; block drops
                  everything from USER unanswered; safety prints the number to
                  compare with USER out of band; privacy says who sees your
                  status and may call (default: contacts)

SRC is FILE.wav, tone:HZ, silence or default (the system's microphone; or
default:NAME); SINK is FILE.wav, null or default (or default:NAME).
The password comes from $SOITTO_PASSWORD, else a terminal prompt.
Exit status is 0 on success; otherwise a one-line reason goes to stderr.

Flags:
`

type cli struct {
	client *app.Client
	json   bool
	out    io.Writer
	errOut io.Writer
	in     *os.File
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soitto-cli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := app.AddFlags(fs)
	asJSON := fs.Bool("json", false, "print JSON (one object per line)")
	verbose := fs.Bool("v", false, "log what happens to stderr")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	c, err := app.New(*cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soitto-cli: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	x := &cli{client: c, json: *asJSON, out: stdout, errOut: stderr, in: os.Stdin}
	if err := x.dispatch(ctx, fs.Args()); err != nil {
		fmt.Fprintf(stderr, "soitto-cli: %s\n", oneLine(err.Error()))
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func (x *cli) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no command (register, login, whoami, search, status, listen, call, chat, send, ping, net, contacts); see --help", errUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "register":
		if len(rest) != 1 {
			return fmt.Errorf("%w: register USER", errUsage)
		}
		return x.register(ctx, rest[0])
	case "login":
		if len(rest) > 1 {
			return fmt.Errorf("%w: login [USER]", errUsage)
		}
		user := ""
		if len(rest) == 1 {
			user = rest[0]
		}
		return x.login(ctx, user)
	case "whoami":
		if len(rest) != 0 {
			return fmt.Errorf("%w: whoami takes no arguments", errUsage)
		}
		return x.whoami()
	case "search":
		if len(rest) != 1 {
			return fmt.Errorf("%w: search USER", errUsage)
		}
		return x.search(ctx, rest[0])
	case "status":
		if len(rest) != 1 {
			return fmt.Errorf("%w: status online|away|dnd|invisible", errUsage)
		}
		return x.status(rest[0])
	case "listen":
		lfs := flag.NewFlagSet("listen", flag.ContinueOnError)
		lfs.SetOutput(io.Discard)
		promote := lfs.Bool("super-peer", false, "")
		spListen := lfs.String("super-peer-listen", "", "")
		spUptime := lfs.Duration("super-peer-uptime", time.Hour, "")
		auto := lfs.Bool("auto-answer", false, "")
		mic := lfs.String("mic", "default", "")
		speaker := lfs.String("speaker", "default", "")
		accept := lfs.String("accept-files", "", "")
		if err := lfs.Parse(rest); err != nil || lfs.NArg() != 0 {
			return fmt.Errorf("%w: listen [--auto-answer] [--mic SRC] [--speaker SINK] [--accept-files DIR] [--super-peer [--super-peer-listen HOST:PORT] [--super-peer-uptime D]]", errUsage)
		}
		if *accept != "" {
			if st, err := os.Stat(*accept); err != nil || !st.IsDir() {
				return fmt.Errorf("listen: --accept-files %s is not a folder", *accept)
			}
		}
		if *promote {
			x.client.SetPromotion(app.PromotionConfig{Consent: true, Listen: *spListen, MinUptime: *spUptime})
		}
		if *auto {
			if err := checkDevices(*mic, *speaker); err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			x.client.SetAutoAnswer(x.devices(*mic, *speaker))
		}
		return x.listen(ctx, *accept)
	case "contacts":
		return x.contacts(ctx, rest)
	case "chat":
		if len(rest) != 2 || rest[1] == "" {
			return fmt.Errorf("%w: chat USER TEXT", errUsage)
		}
		return x.chat(ctx, rest[0], rest[1])
	case "send":
		if len(rest) != 2 {
			return fmt.Errorf("%w: send USER FILE", errUsage)
		}
		return x.send(ctx, rest[0], rest[1])
	case "net":
		if len(rest) != 0 {
			return fmt.Errorf("%w: net takes no arguments", errUsage)
		}
		return x.net(ctx)
	case "call":
		cfs := flag.NewFlagSet("call", flag.ContinueOnError)
		cfs.SetOutput(io.Discard)
		mic := cfs.String("mic", "default", "")
		speaker := cfs.String("speaker", "default", "")
		duration := cfs.Duration("duration", 0, "")
		user, err := parseInterleaved(cfs, rest)
		if err != nil || len(user) != 1 || *duration < 0 {
			return fmt.Errorf("%w: call USER [--mic SRC] [--speaker SINK] [--duration D]", errUsage)
		}
		return x.call(ctx, user[0], *mic, *speaker, *duration)
	case "ping":
		pfs := flag.NewFlagSet("ping", flag.ContinueOnError)
		pfs.SetOutput(io.Discard)
		count := pfs.Int("c", 3, "round trips to measure")
		// The user may come before or after -c.
		var user []string
		for len(rest) > 0 {
			if err := pfs.Parse(rest); err != nil {
				return fmt.Errorf("%w: ping USER [-c N]", errUsage)
			}
			rest = pfs.Args()
			if len(rest) > 0 {
				user, rest = append(user, rest[0]), rest[1:]
			}
		}
		if len(user) != 1 || *count < 1 || *count > 100 {
			return fmt.Errorf("%w: ping USER [-c N], N from 1 to 100", errUsage)
		}
		return x.ping(ctx, user[0], *count)
	}
	return fmt.Errorf("%w: unknown command %q (register, login, whoami, search, status, listen, call, chat, send, ping, net, contacts)", errUsage, cmd)
}

func (x *cli) register(ctx context.Context, user string) error {
	pw, err := x.password("Choose a password for "+user+": ", true)
	if err != nil {
		return err
	}
	name, err := x.client.Register(ctx, user, pw)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if x.json {
		return x.print(map[string]string{"username": name})
	}
	fmt.Fprintf(x.out, "registered %s\n", name)
	return nil
}

func (x *cli) login(ctx context.Context, user string) error {
	who := user
	if who == "" {
		who = x.client.LastUser()
	}
	pw, err := x.password("Password for "+who+": ", false)
	if err != nil {
		return err
	}
	id, err := x.client.Login(ctx, user, pw)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return x.identity("logged in as", id)
}

func (x *cli) whoami() error {
	id, err := x.client.Whoami()
	if err != nil {
		return fmt.Errorf("whoami: %w", err)
	}
	return x.identity("", id)
}

type identityJSON struct {
	Username  string    `json:"username"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	Valid     bool      `json:"valid"`
	LoginURL  string    `json:"login_url"`
	Network   string    `json:"network"`
	Profile   string    `json:"profile"`
}

func (x *cli) identity(prefix string, id app.Identity) error {
	if x.json {
		return x.print(identityJSON(id))
	}
	if prefix != "" {
		fmt.Fprintf(x.out, "%s %s\n", prefix, id.Username)
	}
	state := "valid"
	if !id.Valid {
		state = "NOT valid (expired or not from this network's CA): log in again"
	}
	fmt.Fprintf(x.out, "user         %s\ncertificate  serial %s, %s\nvalid until  %s (in %s)\nlogin server %s\nprofile      %s\n",
		id.Username, id.Serial, state,
		id.NotAfter.Local().Format(time.RFC1123), time.Until(id.NotAfter).Round(time.Minute),
		id.LoginURL, id.Profile)
	return nil
}

func (x *cli) print(v any) error {
	return json.NewEncoder(x.out).Encode(v)
}

// password reads $SOITTO_PASSWORD, else prompts on the terminal (twice
// when choosing one).
func (x *cli) password(prompt string, confirm bool) (string, error) {
	if pw, ok := os.LookupEnv("SOITTO_PASSWORD"); ok {
		return pw, nil
	}
	fd := int(x.in.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("no password: set SOITTO_PASSWORD or run in a terminal")
	}
	fmt.Fprint(os.Stderr, prompt)
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", err
	}
	if confirm {
		fmt.Fprint(os.Stderr, "Again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", err
		}
		if string(again) != string(pw) {
			return "", errors.New("the passwords do not match")
		}
	}
	return string(pw), nil
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// parseInterleaved parses fs's flags before and after the positional
// arguments, which it returns.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	return pos, nil
}

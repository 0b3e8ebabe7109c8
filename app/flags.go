package app

import (
	"flag"
	"fmt"
	"path/filepath"

	"soitto/internal/xdg"
)

// AddFlags defines the flags every Soitto client shares, --profile and
// --network, with their defaults spelled out for --help, and returns the
// Config they fill in when fs is parsed.
func AddFlags(fs *flag.FlagSet) *Config {
	dataDir, _ := xdg.DataDir()
	cfgDir, _ := xdg.ConfigDir()
	cfg := new(Config)
	fs.StringVar(&cfg.Profile, "profile", "", fmt.Sprintf("profile folder (default: %s/USER, one per user)", filepath.Join(dataDir, "profiles")))
	fs.StringVar(&cfg.Network, "network", "", fmt.Sprintf("network file (default: the profile's copy, then $SOITTO_NETWORK, then %s)", filepath.Join(cfgDir, "network.json")))
	return cfg
}

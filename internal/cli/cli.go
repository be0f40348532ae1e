// Package cli holds what both commands need to read their flags.
package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// ParseWithEnv parses args into fs; every flag not given on the command line is taken from the
// environment variable RECORD_<FLAG> (upper case, "-" → "_") when it is set (CONTRACT.md §8).
func ParseWithEnv(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := EnvName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

// EnvName returns the environment variable of a flag.
func EnvName(flagName string) string {
	return "RECORD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Split splits a comma-separated list, dropping empty items.
func Split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

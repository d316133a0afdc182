package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/eventgw/gateway/gateway/internal/store"
)

// storeFlagKeys maps the store commands' --data to storage.path, so that
// without it they take the directory from the config, as serve does.
var storeFlagKeys = map[string]string{"data": "storage.path"}

func newStore(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Check, back up and restore a data directory",
	}
	cmd.AddCommand(newStoreCheck(stdout, stderr), newStoreBackup(stdout, stderr), newStoreRestore(stdout, stderr))
	return cmd
}

// storeFlags adds --config and --data to a store command.
func storeFlags(cmd *cobra.Command) {
	cmd.Flags().String("config", defaultConfigFile, "YAML config file, for storage.path when --data is not given")
	cmd.Flags().String("data", "", "data directory, overrides storage.path")
}

// dataDir is the directory a store command works on.
func dataDir(cmd *cobra.Command) (string, error) {
	cfg, err := loadConfig(cmd, storeFlagKeys)
	if err != nil {
		return "", configError(err)
	}
	if cfg.Storage.Memory {
		return "", errors.New("storage.memory is true: there is no data directory; pass --data DIR")
	}
	return cfg.Storage.Path, nil
}

func storeLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newStoreCheck(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Verify a data directory offline: files, checksums, every event, the integrity record",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := dataDir(cmd)
			if err != nil {
				return err
			}
			rep, err := store.Check(dir, storeLogger(stderr))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: healthy: %d events (%d committed since it was created), %d keys", dir, rep.Events, rep.Committed, rep.Keys)
			if !rep.LastSeq.IsZero() {
				fmt.Fprintf(stdout, ", last seq %s", rep.LastSeq)
			}
			if rep.HasRecord {
				fmt.Fprintf(stdout, "; integrity record: %d committed", rep.Recorded)
			} else {
				fmt.Fprint(stdout, "; no integrity record yet (the next start writes one)")
			}
			switch {
			case len(rep.Unlisted) > 0:
				fmt.Fprintf(stdout, "; %s not listed in the MANIFEST (a crash's leftovers: the next start removes them), so the check ran on a scratch copy",
					strings.Join(rep.Unlisted, ", "))
			case rep.Scratch:
				fmt.Fprint(stdout, "; the gateway had not stopped cleanly, so the WAL was replayed in a scratch copy")
			}
			fmt.Fprintln(stdout)
			return nil
		},
	}
	storeFlags(cmd)
	return cmd
}

func newStoreBackup(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Back up a stopped gateway's data directory (a running one: POST /v1/admin/backup)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := dataDir(cmd)
			if err != nil {
				return err
			}
			out, _ := cmd.Flags().GetString("out")
			if out == "" {
				return errors.New("--out FILE is required")
			}
			st, err := store.Open(store.Options{Path: dir, Logger: storeLogger(stderr)})
			if err != nil {
				if errors.Is(err, store.ErrInUse) {
					return fmt.Errorf("%w\nthe gateway is running on it: take the backup online instead:\n"+
						"  curl -fsS -X POST -H \"Authorization: Bearer $ADMIN_KEY\" http://HOST:PORT/v1/admin/backup -o %s", err, out)
				}
				return err
			}
			defer st.Close()
			return writeBackup(out, func(w io.Writer) error { return st.Backup(cmd.Context(), w) }, stdout)
		},
	}
	storeFlags(cmd)
	cmd.Flags().String("out", "", "file to write the backup to (written to FILE.tmp, then renamed)")
	return cmd
}

// writeBackup writes a backup to path through a temp file, so that a
// failed backup never leaves a truncated file under the final name.
func writeBackup(path string, backup func(io.Writer) error, stdout io.Writer) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	err = backup(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes)\n", filepath.Clean(path), fi.Size())
	return nil
}

func newStoreRestore(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "restore --in FILE",
		Short: "Restore a backup into an empty data directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := dataDir(cmd)
			if err != nil {
				return err
			}
			in, _ := cmd.Flags().GetString("in")
			if in == "" {
				return errors.New("--in FILE is required")
			}
			f, err := os.Open(in)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := store.Restore(dir, f, storeLogger(stderr)); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "restored %s into %s\n", in, dir)
			return nil
		},
	}
	storeFlags(cmd)
	cmd.Flags().String("in", "", "backup file written by `gateway store backup` or POST /v1/admin/backup")
	return cmd
}

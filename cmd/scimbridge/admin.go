package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	db := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

const tokenUsage = "usage: scimbridge token create --tenant T --name N --tier TIER [--db DSN] | token list [--tenant T] | token revoke [--tenant T] ID"

func cmdToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(tokenUsage)
	}
	switch args[0] {
	case "list":
		return cmdTokenList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return cmdTokenRevoke(ctx, args[1:], stdout, stderr)
	case "create":
	default:
		return errors.New(tokenUsage)
	}
	fs := newFlags("token create", stderr)
	db := dbFlag(fs)
	tenant := fs.String("tenant", store.DefaultTenant, "tenant the token acts in")
	name := fs.String("name", "", "a name for the client, e.g. okta-prod")
	tierName := fs.String("tier", "", "highest tier the token may act with")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	tier, err := policy.ParseTier(*tierName)
	if err != nil {
		return fmt.Errorf("--tier: %w", err)
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	secret, err := auth.CreateSecret(ctx, st, *tenant, *name, tier)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "New provisioning secret (shown once; only its hash is stored):")
	fmt.Fprintln(stdout, secret)
	return nil
}

func cmdTenant(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: scimbridge tenant create [--db DSN] NAME")
	}
	fs := newFlags("tenant create", stderr)
	db := dbFlag(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 || !validTenant(fs.Arg(0)) {
		return errors.New("tenant create needs one NAME of 1-63 letters, digits, '-' or '_'")
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	err = st.CreateTenant(ctx, fs.Arg(0), time.Now().UTC().Truncate(time.Microsecond))
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("tenant %q already exists", fs.Arg(0))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tenant %s created\n", fs.Arg(0))
	return nil
}

func validTenant(name string) bool {
	if len(name) == 0 || len(name) > 63 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func cmdTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token list", stderr)
	db := dbFlag(fs)
	tenant := fs.String("tenant", store.DefaultTenant, "tenant whose credentials to list")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	creds, err := st.ListCredentials(ctx, *tenant)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%-36s  %-20s  %-32s  %-20s  %-20s  %s\n", "ID", "NAME", "TIER", "CREATED", "LAST USED", "REVOKED")
	for _, c := range creds {
		fmt.Fprintf(stdout, "%-36s  %-20s  %-32s  %-20s  %-20s  %s\n", c.ID, c.Name, c.Tier, stamp(&c.Created), stamp(c.LastUsedAt), stamp(c.RevokedAt))
	}
	return nil
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func cmdTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token revoke", stderr)
	db := dbFlag(fs)
	tenant := fs.String("tenant", store.DefaultTenant, "tenant of the credential")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("token revoke needs the credential ID (see token list)")
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	err = st.RevokeCredential(ctx, *tenant, fs.Arg(0), time.Now().UTC().Truncate(time.Microsecond))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("tenant %q has no active credential %q", *tenant, fs.Arg(0))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "credential %s revoked (servers stop accepting it within %s)\n", fs.Arg(0), auth.CacheTTL)
	return nil
}

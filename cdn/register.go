package cdn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/marquee-party/marquee/internal/cdnwire"
)

// RegistrationFile is the file in the data dir that keeps a node's
// registration (mode 0600: it holds the credential and the URL key).
const RegistrationFile = "cdn-registration.json"

// Registration errors that retrying does not fix.
var (
	// ErrRevoked: an admin revoked this node.
	ErrRevoked = errors.New("cdn: this node was revoked by an admin; delete " + RegistrationFile + " from cdn.data_dir to register it again")
	// ErrRefused: the API refused the registration (wrong key or field).
	ErrRefused = errors.New("cdn: the API refused the registration")
)

// RegisterParams is what a node registers with.
type RegisterParams struct {
	Origin                       *url.URL
	PSK                          []byte
	Name, Mode, Owner, PublicURL string
	Version                      string
	DataDir                      string
	Client                       *http.Client
	Logger                       *slog.Logger
}

// stored is the registration file: the Registration and the fields it was
// made with, so a changed configuration registers anew.
type stored struct {
	Registration cdnwire.Registration `json:"registration"`
	Name         string               `json:"name"`
	Mode         string               `json:"mode"`
	Owner        string               `json:"owner,omitempty"`
	PublicURL    string               `json:"public_url"`
}

// Register returns the node's registration: the stored one while the API
// still accepts its credential (checked at cdnwire.NodePath), else a new
// one by challenge and proof (the key never leaves the node), stored in
// the data dir. It returns ErrRevoked for a revoked node and ErrRefused
// (wrapped, with the API's message) for a refused registration.
func Register(ctx context.Context, p RegisterParams) (cdnwire.Registration, error) {
	if p.Client == nil {
		p.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
	file := filepath.Join(p.DataDir, RegistrationFile)
	if s, err := readStored(file); err == nil && s.Name == p.Name && s.Mode == p.Mode && s.Owner == p.Owner && s.PublicURL == p.PublicURL {
		code, err := checkCredential(ctx, p, s.Registration.Credential)
		switch {
		case err != nil:
			return cdnwire.Registration{}, err
		case code == "":
			return s.Registration, nil
		case code == "cdn_node_revoked":
			return cdnwire.Registration{}, ErrRevoked
		}
		p.Logger.Warn("the API no longer knows this node; registering again", "node", s.Registration.NodeID)
	} else if err == nil {
		p.Logger.Info("cdn node configuration changed; registering again", "node", s.Registration.NodeID)
	}
	var ch cdnwire.Challenge
	if err := post(ctx, p, cdnwire.ChallengePath, cdnwire.ChallengeRequest{Name: p.Name}, &ch); err != nil {
		return cdnwire.Registration{}, err
	}
	req := cdnwire.RegisterRequest{ChallengeID: ch.ID, Name: p.Name, Mode: p.Mode, Owner: p.Owner, PublicURL: p.PublicURL, Version: p.Version,
		Proof: cdnwire.Proof(p.PSK, ch.Nonce, p.Name, p.Mode, p.Owner, p.PublicURL)}
	var reg cdnwire.Registration
	if err := post(ctx, p, cdnwire.RegisterPath, req, &reg); err != nil {
		return cdnwire.Registration{}, err
	}
	if reg.NodeID == "" || reg.Credential == "" || len(reg.URLKey) < MinSecretLen {
		return cdnwire.Registration{}, fmt.Errorf("%w: incomplete registration in the API's answer", ErrRefused)
	}
	if err := writeStored(file, stored{Registration: reg, Name: p.Name, Mode: p.Mode, Owner: p.Owner, PublicURL: p.PublicURL}); err != nil {
		return cdnwire.Registration{}, err
	}
	return reg, nil
}

// checkCredential asks the API whether cred holds: "" when it does, else
// the API's error code.
func checkCredential(ctx context.Context, p RegisterParams, cred string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(p.Origin, cdnwire.NodePath), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	res, err := p.Client.Do(req)
	if err != nil {
		return "", fmt.Errorf("cdn: check registration: %w", err)
	}
	defer res.Body.Close()
	var e struct{ Code string }
	_ = json.NewDecoder(io.LimitReader(res.Body, 1<<16)).Decode(&e)
	switch {
	case res.StatusCode == http.StatusOK:
		return "", nil
	case res.StatusCode == http.StatusUnauthorized && e.Code != "":
		return e.Code, nil
	}
	return "", fmt.Errorf("cdn: check registration: HTTP %d from the API", res.StatusCode)
}

func post(ctx context.Context, p RegisterParams, path string, in, out any) error {
	body, _ := json.Marshal(in)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, apiURL(p.Origin, path), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := p.Client.Do(req)
	if err != nil {
		return fmt.Errorf("cdn: register with %s: %w", p.Origin.Redacted(), err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusOK {
		var e struct{ Code, Message string }
		_ = json.Unmarshal(b, &e)
		if res.StatusCode >= 400 && res.StatusCode < 500 {
			return fmt.Errorf("%w (%s): %s", ErrRefused, e.Code, e.Message)
		}
		return fmt.Errorf("cdn: register: HTTP %d from the API", res.StatusCode)
	}
	return json.Unmarshal(b, out)
}

func apiURL(origin *url.URL, path string) string {
	u := *origin
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	return u.String()
}

func readStored(file string) (stored, error) {
	var s stored
	b, err := os.ReadFile(file)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("cdn: %s: %w", file, err)
	}
	return s, nil
}

// writeStored replaces file atomically with mode 0600.
func writeStored(file string, s stored) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("cdn: data dir: %w", err)
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("cdn: store registration: %w", err)
	}
	if err := os.Rename(tmp, file); err != nil {
		return fmt.Errorf("cdn: store registration: %w", err)
	}
	return nil
}

package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
)

// AllProjects is the project id of a credential that grants every project.
const AllProjects = "*"

// TokenEntry is a token credential of the credentials file.
type TokenEntry struct {
	// Token is the secret sent in X-Auth-Token.
	Token string `json:"token"`
	// ProjectID is the project the token grants, or "*" for all.
	ProjectID string `json:"project_id"`
}

// AccessKeyEntry is an AK/SK credential of the credentials file.
type AccessKeyEntry struct {
	// AK is the access key id sent in the Authorization header.
	AK string `json:"ak"`
	// SK is the secret key that signs requests.
	SK string `json:"sk"`
	// ProjectID is the project the key grants, or "*" for all.
	ProjectID string `json:"project_id"`
}

// Credentials is the content of the --credentials file.
type Credentials struct {
	// Tokens are the accepted X-Auth-Token values.
	Tokens []TokenEntry `json:"tokens"`
	// AccessKeys are the accepted AK/SK pairs.
	AccessKeys []AccessKeyEntry `json:"access_keys"`
}

// LoadCredentials reads, parses and validates a credentials file. Unknown JSON fields and
// trailing data are errors, so that a misspelt field name does not silently disable an entry.
func LoadCredentials(path string) (*Credentials, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	c, err := ParseCredentials(data)
	if err != nil {
		return nil, fmt.Errorf("credentials %s: %w", path, err)
	}
	return c, nil
}

// ParseCredentials parses and validates the JSON content of a credentials file.
func ParseCredentials(data []byte) (*Credentials, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Credentials
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("invalid JSON: data after the top-level object")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks every entry: a non-empty secret without surrounding white space or control
// characters, a project id that is "*" or valid, a well-formed access key, and no duplicate
// token or access key. The error names the first wrong entry, never its secret.
func (c *Credentials) Validate() error {
	tokens := make(map[[32]byte]int, len(c.Tokens))
	for i, e := range c.Tokens {
		if err := validSecret(e.Token); err != nil {
			return fmt.Errorf("tokens[%d]: token %v", i, err)
		}
		if !validGrant(e.ProjectID) {
			return fmt.Errorf("tokens[%d]: project_id %q is neither %q nor a valid project id", i, e.ProjectID, AllProjects)
		}
		h := sha256.Sum256([]byte(e.Token))
		if j, dup := tokens[h]; dup {
			return fmt.Errorf("tokens[%d]: duplicate token (same as tokens[%d])", i, j)
		}
		tokens[h] = i
	}
	aks := make(map[string]int, len(c.AccessKeys))
	for i, e := range c.AccessKeys {
		if !validAK(e.AK) {
			return fmt.Errorf("access_keys[%d]: ak %q must be 1-128 visible ASCII characters without a comma", i, e.AK)
		}
		if err := validSecret(e.SK); err != nil {
			return fmt.Errorf("access_keys[%d] (ak %q): sk %v", i, e.AK, err)
		}
		if !validGrant(e.ProjectID) {
			return fmt.Errorf("access_keys[%d] (ak %q): project_id %q is neither %q nor a valid project id", i, e.AK, e.ProjectID, AllProjects)
		}
		if j, dup := aks[e.AK]; dup {
			return fmt.Errorf("access_keys[%d]: duplicate ak %q (same as access_keys[%d])", i, e.AK, j)
		}
		aks[e.AK] = i
	}
	return nil
}

func validGrant(p string) bool { return p == AllProjects || ValidProjectID(p) }

func validSecret(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if strings.TrimSpace(s) != s {
		return errors.New("has surrounding white space")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return errors.New("contains a control character")
		}
	}
	return nil
}

// credSet is an immutable, indexed set of credentials.
type credSet struct {
	tokens map[[32]byte]string // SHA-256 of the token -> project
	aks    map[string]AccessKeyEntry
}

func newCredSet(c *Credentials) *credSet {
	s := &credSet{
		tokens: make(map[[32]byte]string, len(c.Tokens)),
		aks:    make(map[string]AccessKeyEntry, len(c.AccessKeys)),
	}
	for _, e := range c.Tokens {
		s.tokens[sha256.Sum256([]byte(e.Token))] = e.ProjectID
	}
	for _, e := range c.AccessKeys {
		s.aks[e.AK] = e
	}
	return s
}

// Store holds the current credentials of a file and can reload them atomically. It is safe
// for concurrent use.
type Store struct {
	path string
	cur  atomic.Pointer[credSet]
}

// NewStore loads the credentials file at path.
func NewStore(path string) (*Store, error) {
	s := &Store{path: path}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Reload re-reads the file and swaps the new credentials in atomically, so that requests in
// flight see either the old or the new set, never a mix. On error the current credentials are
// kept and the error is returned. It is meant to be called from a SIGHUP handler.
func (s *Store) Reload() error {
	c, err := LoadCredentials(s.path)
	if err != nil {
		return err
	}
	s.cur.Store(newCredSet(c))
	return nil
}

// Len returns the number of tokens and access keys currently loaded.
func (s *Store) Len() (tokens, accessKeys int) {
	c := s.cur.Load()
	return len(c.tokens), len(c.aks)
}

func (s *Store) load() *credSet { return s.cur.Load() }

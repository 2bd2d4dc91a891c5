package settings_test

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pyramid-go/jwtauth/settings"
)

// indent indents every line of a PEM text, as an INI continuation.
func indent(pemText []byte, prefix string) string {
	lines := strings.Split(strings.TrimSpace(string(pemText)), "\n")
	return prefix + strings.Join(lines, "\n"+prefix)
}

func TestLoadINI(t *testing.T) {
	ec, ed := testKeys()[1], testKeys()[2]
	pub := publicPEMs(t, ec)[0].pem
	priv := privatePEMs(t, ed)[0].pem
	// The public key's lines with a comment line among them.
	lines := strings.Split(strings.TrimSpace(string(pub)), "\n")
	commented := "    " + strings.Join(lines[:2], "\n    ") + "\n    # a comment\n\t" + strings.Join(lines[2:], "\n\t")

	ini := `# A Pyramid application's configuration.
[DEFAULT]
debug = true

[app:main]
use = egg:myapp
pyramid.includes =
    pyramid_debugtoolbar
    pyramid_tm
sqlalchemy.url = sqlite:///%(here)s/db.sqlite
; a comment line
# another
jwtauth.algorithm = ES256
jwtauth.public_key =
` + commented + `
jwtauth.leeway: 5
jwtauth.issuer = "https://issuer.example" # not a comment
other.hash = a#b;c
other.backslash = C:\dir\
other.empty =

[app:other]
jwtauth.algorithm = EdDSA
jwtauth.private_key = ` + indent(priv, "  ")[2:] + `
`
	want := map[string]string{
		"use":                "egg:myapp",
		"pyramid.includes":   "pyramid_debugtoolbar\npyramid_tm",
		"sqlalchemy.url":     "sqlite:///%(here)s/db.sqlite",
		"jwtauth.algorithm":  "ES256",
		"jwtauth.public_key": strings.TrimSpace(string(pub)),
		"jwtauth.leeway":     "5",
		"jwtauth.issuer":     `"https://issuer.example" # not a comment`,
		"other.hash":         "a#b;c",
		"other.backslash":    `C:\dir\`,
		"other.empty":        "",
	}
	for _, eol := range []string{"\n", "\r\n"} {
		path := writeFile(t, "app.ini", []byte(strings.ReplaceAll(ini, "\n", eol)))
		for _, section := range []string{"", "app:main"} {
			m, err := settings.LoadINI(path, section)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, want) {
				for k := range maps.Keys(want) {
					if m[k] != want[k] {
						t.Errorf("eol %q: %s = %q, want %q", eol, k, m[k], want[k])
					}
				}
				t.Errorf("eol %q: got %q", eol, m)
			}
		}
		m, err := settings.LoadINI(path, "app:other")
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{"jwtauth.algorithm": "EdDSA", "jwtauth.private_key": strings.TrimSpace(string(priv))}; !reflect.DeepEqual(m, want) {
			t.Errorf("app:other: %q", m)
		}
	}

	// The multi-line keys make policies that verify go-jose's tokens.
	path := writeFile(t, "app.ini", []byte(ini))
	m, err := settings.LoadINI(path, "")
	if err != nil {
		t.Fatal(err)
	}
	delete(m, "jwtauth.issuer")
	p := mustPolicy(t, m)
	if id, err := authenticate(p, mint(t, "ES256", ec.signer, fresh("alice"))); id != "alice" || err != nil {
		t.Errorf("ES256: %q, %v", id, err)
	}
	m, err = settings.LoadINI(path, "app:other")
	if err != nil {
		t.Fatal(err)
	}
	p = mustPolicy(t, m)
	if id, err := authenticate(p, mint(t, "EdDSA", ed.signer, fresh("bob"))); id != "bob" || err != nil {
		t.Errorf("EdDSA: %q, %v", id, err)
	}
}

// A multi-line value longer than the parser's default buffer is read whole.
func TestLoadINILongValue(t *testing.T) {
	rsa := testKeys()[0]
	var b strings.Builder
	b.WriteString("[app:main]\njwtauth.master_secret = x\njwtauth.audience =\n")
	var aud []string
	for i := range 1000 {
		aud = append(aud, fmt.Sprintf("https://audience-%04d.example", i))
		fmt.Fprintf(&b, "    %s,\n", aud[i])
	}
	b.WriteString("jwtauth.private_key =\n" + indent(privatePEMs(t, rsa)[1].pem, "    ") + "\njwtauth.algorithm = RS256\n")
	path := writeFile(t, "long.ini", []byte(b.String()))
	m, err := settings.LoadINI(path, "")
	if err != nil {
		t.Fatal(err)
	}
	delete(m, "jwtauth.master_secret")
	cfg, err := settings.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.Audience, aud) {
		t.Errorf("got %d audiences, want %d", len(cfg.Audience), len(aud))
	}
	p := mustPolicy(t, map[string]string{"jwtauth.algorithm": m["jwtauth.algorithm"], "jwtauth.private_key": m["jwtauth.private_key"]})
	if id, err := authenticate(p, mint(t, "RS256", rsa.signer, fresh("alice"))); id != "alice" || err != nil {
		t.Errorf("RS256: %q, %v", id, err)
	}
}

func TestLoadINIErrors(t *testing.T) {
	path := writeFile(t, "app.ini", []byte("[app:main]\njwtauth.leeway = 1\n"))
	_, err := settings.LoadINI(path, "app:missing")
	if !errors.Is(err, settings.ErrNoSection) || !strings.Contains(err.Error(), "[app:missing]") || !strings.Contains(err.Error(), path) {
		t.Errorf("missing section: %v", err)
	}
	_, err = settings.LoadINI(filepath.Join(t.TempDir(), "none.ini"), "")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	noMain := writeFile(t, "other.ini", []byte("[app:other]\nx = 1\n"))
	if _, err := settings.LoadINI(noMain, ""); !errors.Is(err, settings.ErrNoSection) || !strings.Contains(err.Error(), "[app:main]") {
		t.Errorf("no [app:main]: %v", err)
	}

	// A key whose continuation lines are not indented: the parse error
	// names the line, but does not show it.
	pub := publicPEMs(t, testKeys()[0])[0].pem
	lines := strings.Split(string(pub), "\n")
	bad := writeFile(t, "bad.ini", []byte("[app:main]\njwtauth.public_key = "+lines[0]+"\n"+strings.Join(lines[1:], "\n")))
	_, err = settings.LoadINI(bad, "")
	if err == nil {
		t.Fatal("no error")
	}
	if !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), bad) {
		t.Errorf("error %q does not name the file and line 3", err)
	}
	noKeyMaterial(t, err.Error(), pub)
}

func TestFromEnv(t *testing.T) {
	got := settings.FromEnv([]string{
		"PATH=/usr/bin",
		"JWTAUTH_MASTER_SECRET=a=b",
		"JWTAUTH_FIND_GROUPS_TABLE=users",
		"JWTAUTH_Leeway=5",
		"JWTAUTH_ISSUER=",
		"JWTAUTH_ALGORITHM=HS384",
		"JWTAUTH_ALGORITHM=HS512",
		"jwtauth_scheme=Bearer",
		"JWTAUTHX=1",
		"MY_JWTAUTH_AUDIENCE=x",
		"JWTAUTH_NOEQUALS",
	})
	want := map[string]string{
		"jwtauth.master_secret":     "a=b",
		"jwtauth.find_groups_table": "users",
		"jwtauth.leeway":            "5",
		"jwtauth.issuer":            "",
		"jwtauth.algorithm":         "HS512",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := settings.FromEnv(nil); len(got) != 0 {
		t.Errorf("FromEnv(nil) = %q", got)
	}
}

func TestLoad(t *testing.T) {
	path := writeFile(t, "app.ini", []byte("[app:main]\njwtauth.master_secret = in-the-file-but-not-long-enough\njwtauth.leeway = 5\njwtauth.scheme = JWT\nother = 1\n"))
	t.Setenv("JWTAUTH_MASTER_SECRET", longSecret)
	t.Setenv("JWTAUTH_SCHEME", "Bearer")
	m, err := settings.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"jwtauth.master_secret": longSecret, "jwtauth.leeway": "5", "jwtauth.scheme": "Bearer", "other": "1"} {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	p := mustPolicy(t, m)
	if p.Scheme() != "Bearer" {
		t.Errorf("scheme %q", p.Scheme())
	}
	if id, err := authenticate(p, mint(t, "HS256", []byte(longSecret), fresh("alice"))); id != "alice" || err != nil {
		t.Errorf("%q, %v", id, err)
	}

	// Without a file, the environment alone.
	m, err = settings.Load("", "")
	if err != nil {
		t.Fatal(err)
	}
	if m["jwtauth.master_secret"] != longSecret || m["jwtauth.leeway"] != "" {
		t.Errorf("got %v", redact(m))
	}

	// A bad value from the environment is reported under its key.
	t.Setenv("JWTAUTH_LEEWAY", "soon")
	m, err = settings.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = settings.NewPolicy(m, nil)
	settingsError(t, err, "jwtauth.leeway", settings.ErrBadValue)

	// Errors of the file are reported.
	if _, err := settings.Load(path, "app:none"); !errors.Is(err, settings.ErrNoSection) {
		t.Errorf("missing section: %v", err)
	}
}

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
	cfg, err := parseConfig(m, nil)
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
	got, from := settings.FromEnv([]string{
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
		"MULTIAUTH_POLICY_API_USE=jwt",
		"MULTIAUTH_POLICIES=",
	})
	want := map[string]string{
		"jwtauth.master_secret":     "a=b",
		"jwtauth.find_groups_table": "users",
		"jwtauth.leeway":            "5",
		"jwtauth.algorithm":         "HS512",
		"multiauth.policy.api.use":  "jwt",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	wantFrom := settings.Origins{
		"jwtauth.master_secret":     "JWTAUTH_MASTER_SECRET",
		"jwtauth.find_groups_table": "JWTAUTH_FIND_GROUPS_TABLE",
		"jwtauth.leeway":            "JWTAUTH_Leeway",
		"jwtauth.algorithm":         "JWTAUTH_ALGORITHM",
		"multiauth.policy.api.use":  "MULTIAUTH_POLICY_API_USE",
	}
	if !reflect.DeepEqual(from, wantFrom) {
		t.Errorf("origins %q, want %q", from, wantFrom)
	}
	if got, from := settings.FromEnv(nil); len(got) != 0 || len(from) != 0 {
		t.Errorf("FromEnv(nil) = %q, %q", got, from)
	}
}

// TestLoadEmptyVariable: a variable set to the empty string leaves the
// file's value as it is, for JWTAUTH_* and MULTIAUTH_* alike.
func TestLoadEmptyVariable(t *testing.T) {
	path := writeFile(t, "app.ini", []byte("[app:main]\njwtauth.leeway = 5\nmultiauth.policies = api\nmultiauth.policy.api.use = jwt\n"))
	t.Setenv("JWTAUTH_LEEWAY", "")
	t.Setenv("MULTIAUTH_POLICIES", "")
	t.Setenv("MULTIAUTH_POLICY_API_USE", "")
	m, from, err := settings.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"jwtauth.leeway": "5", "multiauth.policies": "api", "multiauth.policy.api.use": "jwt"} {
		if m[k] != v {
			t.Errorf("%s = %q, want the file's %q", k, m[k], v)
		}
		if from[k] != "" {
			t.Errorf("%s is said to come from %s", k, from[k])
		}
	}
}

// TestEnvErrorsNameTheVariable: an error caused by an environment
// variable names the variable, and its key; an unknown key is told the
// known key closest to it, spelt as a variable.
func TestEnvErrorsNameTheVariable(t *testing.T) {
	path := writeFile(t, "app.ini", []byte("[app:main]\njwtauth.master_secret = "+longSecret+"\n"))
	for _, tc := range []struct {
		name, value, key, msg string
		kind                  error
	}{
		{"JWTAUTH_MASTER_SECRT", longSecret, "jwtauth.master_secrt", "JWTAUTH_MASTER_SECRT (jwtauth.master_secrt): unknown setting; did you mean JWTAUTH_MASTER_SECRET?", settings.ErrUnknownKey},
		{"JWTAUTH_LEEWAY", "soon", "jwtauth.leeway", `JWTAUTH_LEEWAY (jwtauth.leeway): "soon" is not a whole number of seconds`, settings.ErrBadValue},
		{"JWTAUTH_SCHEME", "JWT jwt", "jwtauth.scheme", `JWTAUTH_SCHEME (jwtauth.scheme): names "jwt" twice`, settings.ErrBadValue},
		{"MULTIAUTH_POLICY_API_MASTER_SECRT", longSecret, "multiauth.policy.api.master_secrt", "MULTIAUTH_POLICY_API_MASTER_SECRT (multiauth.policy.api.master_secrt): unknown setting; did you mean MULTIAUTH_POLICY_API_MASTER_SECRET?", settings.ErrUnknownKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			if strings.HasPrefix(tc.name, "MULTIAUTH_") {
				t.Setenv("MULTIAUTH_POLICIES", "api")
				t.Setenv("MULTIAUTH_POLICY_API_USE", "jwt")
			}
			m, from, err := settings.Load(path, "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = settings.NewPolicy(m, from, nil)
			settingsError(t, err, tc.key, tc.kind)
			var e *settings.Error
			if errors.As(err, &e); e.Env != tc.name || err.Error() != tc.msg {
				t.Errorf("Env %q, error %q; want %q, %q", e.Env, err, tc.name, tc.msg)
			}
			noKeyMaterial(t, err.Error(), []byte(longSecret))
			if !strings.HasPrefix(tc.name, "MULTIAUTH_") {
				_, err = settings.Parse(m, from)
				if tc.kind == settings.ErrUnknownKey && (err == nil || err.Error() != tc.msg) {
					t.Errorf("Parse: %v, want %q", err, tc.msg)
				}
			}
		})
	}

	// The same keys from a file, or from code, are named as keys.
	_, err := settings.NewPolicy(map[string]string{"jwtauth.master_secrt": longSecret}, nil, nil)
	if want := "jwtauth.master_secrt: unknown setting; did you mean jwtauth.master_secret?"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}

	t.Setenv("JWTAUTH_DEBUG_AUTHORIZATION", "maybe")
	m, from, err := settings.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = settings.DebugAuthorization(m, from)
	if settingsError(t, err, "jwtauth.debug_authorization", settings.ErrBadValue); !strings.HasPrefix(err.Error(), "JWTAUTH_DEBUG_AUTHORIZATION (jwtauth.debug_authorization): ") {
		t.Errorf("DebugAuthorization: %v", err)
	}
}

// TestLoadINIDuplicateKey: a key written twice in the section read is an
// error naming the key, never the values; a key that is no setting (a
// line of key material pasted without its indentation, say) is not named.
func TestLoadINIDuplicateKey(t *testing.T) {
	for _, tc := range []struct {
		name, ini string
	}{
		{"same value", "[app:main]\njwtauth.master_secret = " + longSecret + "\njwtauth.leeway = 5\njwtauth.master_secret = " + longSecret + "\n"},
		{"other value", "[app:main]\njwtauth.master_secret = " + longSecret + "\n; a comment\njwtauth.master_secret: " + longSecret + "x\n"},
		{"after a multi-line value", "[app:main]\njwtauth.master_secret =\n    " + longSecret + "\n    jwtauth.master_secret = no\nother = 1\n\njwtauth.master_secret=" + longSecret + "\n"},
		{"in the section opened again", "[app:main]\njwtauth.master_secret = " + longSecret + "\n[app:other]\nx = 1\n[app:main]\njwtauth.master_secret = " + longSecret + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, "app.ini", []byte(tc.ini))
			_, err := settings.LoadINI(path, "")
			if !errors.Is(err, settings.ErrDuplicateKey) {
				t.Fatalf("got %v, want ErrDuplicateKey", err)
			}
			if msg := err.Error(); !strings.Contains(msg, "jwtauth.master_secret is set twice") || !strings.Contains(msg, path) {
				t.Errorf("error %q does not name the key and file", msg)
			}
			noKeyMaterial(t, err.Error(), []byte(longSecret))
		})
	}
	// A line of a quoted value is no key.
	path := writeFile(t, "app.ini", []byte("[app:main]\njwtauth.leeway = 3\nnote = \"\"\"\njwtauth.leeway = 4\n[x]\n\"\"\"\n"))
	if m, err := settings.LoadINI(path, ""); err != nil || m["jwtauth.leeway"] != "3" {
		t.Errorf("a quoted value holding a key's line: %v, %v", m, err)
	}
	// A duplicate that is no setting is not named.
	path = writeFile(t, "app.ini", []byte("[app:main]\nMIIBsecretline== = x\nMIIBsecretline== = x\n"))
	if _, err := settings.LoadINI(path, ""); !errors.Is(err, settings.ErrDuplicateKey) || strings.Contains(err.Error(), "MIIB") {
		t.Errorf("a duplicate line of key material: %v", err)
	}
	// A key of one section is no duplicate of another's.
	path = writeFile(t, "app.ini", []byte("[DEFAULT]\nx = 1\n[app:main]\nx = 2\n[app:other]\nx = 3\nx = 4\n"))
	if m, err := settings.LoadINI(path, ""); err != nil || m["x"] != "2" {
		t.Errorf("got %v, %v", m, err)
	}
}

func TestLoad(t *testing.T) {
	path := writeFile(t, "app.ini", []byte("[app:main]\njwtauth.master_secret = in-the-file-but-not-long-enough\njwtauth.leeway = 5\njwtauth.scheme = JWT\nother = 1\n"))
	t.Setenv("JWTAUTH_MASTER_SECRET", longSecret)
	t.Setenv("JWTAUTH_SCHEME", "Bearer")
	m, _, err := settings.Load(path, "")
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
	m, _, err = settings.Load("", "")
	if err != nil {
		t.Fatal(err)
	}
	if m["jwtauth.master_secret"] != longSecret || m["jwtauth.leeway"] != "" {
		t.Errorf("got %v", redact(m))
	}

	// A bad value from the environment is reported under its key, and
	// its variable.
	t.Setenv("JWTAUTH_LEEWAY", "soon")
	m, from, err := settings.Load(path, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = settings.NewPolicy(m, from, nil)
	settingsError(t, err, "jwtauth.leeway", settings.ErrBadValue)

	// Errors of the file are reported.
	if _, _, err := settings.Load(path, "app:none"); !errors.Is(err, settings.ErrNoSection) {
		t.Errorf("missing section: %v", err)
	}
}

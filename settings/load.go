package settings

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"

	"gopkg.in/ini.v1"
)

// DefaultSection is the INI section LoadINI reads when given none: the
// application section of a Pyramid (PasteDeploy) configuration file.
const DefaultSection = "app:main"

// ErrNoSection is matched by the error LoadINI returns when the file has no
// section of the name asked for.
var ErrNoSection = errors.New("no such section")

// ErrDuplicateKey is matched by the error LoadINI returns when the section
// sets a key twice.
var ErrDuplicateKey = errors.New("duplicate key")

// envPrefix begins the environment variables FromEnv reads.
const envPrefix = "JWTAUTH_"

// LoadINI reads every key of one section of an INI file (DefaultSection
// when section is ""), not only the jwtauth.* ones, with the values as
// written. The file is read as PasteDeploy reads it: lines that begin with
// # or ; are comments, but # and ; inside a value are kept; quotes are kept;
// a value continues on the following lines that are indented deeper, which
// is how a PEM key is written inline:
//
//	jwtauth.public_key =
//	    -----BEGIN PUBLIC KEY-----
//	    MCowBQYDK2VwAyEA...
//	    -----END PUBLIC KEY-----
//
// The continuation lines are joined with newlines, their indentation and
// comment lines dropped. Values are not interpolated: %(here)s stays as it
// is written. Unlike PasteDeploy, the INI reader takes a value that begins
// with a backquote or """ for a quoted one, and drops those quotes. A key
// written twice in the section (a section written twice is one) is an
// error naming it, as it is for Python's configparser.
func LoadINI(path, section string) (map[string]string, error) {
	if section == "" {
		section = DefaultSection
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: cannot read settings: %w", err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{
		IgnoreInlineComment:        true, // # and ; only begin a line's comment
		IgnoreContinuation:         true, // no backslash continuation
		AllowPythonMultilineValues: true, // indented continuation lines
		PreserveSurroundedQuote:    true,
		AllowShadows:               true, // to tell a key written twice,
		AllowDuplicateShadowValues: true, // even with one value
		// The look-ahead of multi-line values is limited to the buffer:
		// make it hold the whole file.
		ReaderBufferSize: len(data) + 1,
	}, data)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: cannot parse settings file %s: %s", path, parseError(err, data))
	}
	sec, err := f.GetSection(section)
	if err != nil {
		return nil, fmt.Errorf("jwtauth: settings file %s: [%s]: %w", path, section, ErrNoSection)
	}
	for _, k := range sec.Keys() {
		if len(k.ValueWithShadows()) < 2 {
			continue
		}
		name := k.Name()
		if !strings.HasPrefix(strings.ToLower(name), Prefix) && !strings.HasPrefix(strings.ToLower(name), MultiauthPrefix) {
			// Not a settings key: a line of a key pasted without its
			// indentation, maybe. Its text is not shown.
			name = "a key that is no jwtauth.* or multiauth.* setting (its name not shown, in case it is key material)"
		}
		return nil, fmt.Errorf("jwtauth: settings file %s: [%s]: %w: %s is set twice", path, section, ErrDuplicateKey, name)
	}
	m := make(map[string]string, len(sec.Keys()))
	for _, k := range sec.Keys() {
		m[k.Name()] = multiline(k.Value())
	}
	return m, nil
}

// parseError describes an error of the INI parser without the text of the
// line at fault, which may hold key material.
func parseError(err error, data []byte) string {
	var line string
	var what string
	switch e := err.(type) {
	case ini.ErrDelimiterNotFound:
		line, what = e.Line, "not a section, a comment nor a key = value"
	case ini.ErrEmptyKeyName:
		line, what = e.Line, "a value without a key"
	default:
		return "malformed (an unclosed section name or quote?)"
	}
	line = strings.TrimSpace(line)
	for i, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == line {
			return fmt.Sprintf("line %d: %s", i+1, what)
		}
	}
	return what
}

// multiline joins the lines of a value as Python's configparser does: each
// trimmed, comment lines dropped.
func multiline(v string) string {
	if !strings.Contains(v, "\n") {
		return v
	}
	lines := strings.Split(v, "\n")
	out := lines[:0]
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if i > 0 && (strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";")) {
			continue
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// Origins names the environment variable that set each settings key read
// from the environment, by key, as FromEnv and Load return it: the errors
// of Parse, NewPolicy and DebugAuthorization name the variable, not the key
// it maps to. nil when every key came from a file or from code.
type Origins map[string]string

// FromEnv reads settings from environment variables ("NAME=value", as
// os.Environ returns them): JWTAUTH_<NAME> becomes jwtauth.<name>, the name
// lowercased, so JWTAUTH_MASTER_SECRET sets jwtauth.master_secret and
// JWTAUTH_FIND_GROUPS_TABLE sets jwtauth.find_groups_table; the keys of a
// stack are MULTIAUTH_POLICIES, MULTIAUTH_GROUPFINDER and
// MULTIAUTH_POLICY_<NAME>_<KEY> (multiauth.policy.<name>.<key>: policy
// names have no underscore). A variable set to the empty string is left
// out, so that it leaves a file's value as it is. Other variables are
// ignored; of a variable given twice, the last wins. The Origins name the
// variable of each key.
func FromEnv(environ []string) (map[string]string, Origins) {
	m := map[string]string{}
	from := Origins{}
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || value == "" {
			continue
		}
		var key string
		if rest, ok := strings.CutPrefix(name, envPrefix); ok {
			key = Prefix + strings.ToLower(rest)
		} else if key, ok = envStackKey(name); !ok {
			continue
		}
		m[key], from[key] = value, name
	}
	return m, from
}

// envName is the environment variable that sets key, as FromEnv reads it.
func envName(key string) string {
	return strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load reads the settings of an application: the section of the INI file
// at path (see LoadINI; no file when path is ""), overlaid with the
// JWTAUTH_* and MULTIAUTH_* environment variables (see FromEnv), which
// win, so that secrets need not be written in the file. The Origins name
// the variables of the keys they set; pass them to NewPolicy.
func Load(path, section string) (map[string]string, Origins, error) {
	m := map[string]string{}
	if path != "" {
		var err error
		if m, err = LoadINI(path, section); err != nil {
			return nil, nil, err
		}
	}
	env, from := FromEnv(os.Environ())
	maps.Copy(m, env)
	return m, from, nil
}

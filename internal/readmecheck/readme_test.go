// Package readmecheck holds one test: every Go snippet of the module's
// README.md compiles as written.
//
// The snippets are fragments (an import block, declarations, statements),
// so the test completes each one into a package of its own, by the rules
// below, and builds and vets those packages with the go tool, in a
// directory made for the run inside the module (its name starts with "_",
// so that no ./... pattern sees it) and removed after. It needs no network:
// the packages use only the module's own dependencies (GOPROXY=off).
//
// The completion rules:
//
//  1. A snippet is every ```go block of README.md, in order. A block whose
//     info string goes on after go (```go prometheus) is not one: it needs
//     packages outside the module's dependencies, and is shown only.
//  2. A snippet may start with an import block; it is kept as written, so
//     an import the snippet does not use fails, as it would in a program.
//  3. Any other package the snippet uses (a selector x.Name whose x is a
//     name of the table knownPackages) is imported for it. A package
//     outside that table must be in the snippet's import block.
//  4. The snippet is split into top-level declarations and statements: a
//     line at the start of the line beginning with func, var, type or
//     const begins a declaration, which runs to the first later line after
//     which it parses as one; every other line is a statement. The
//     declarations stay at the top level of the package; the statements,
//     in order, are the body of one function.
//  5. The free names the snippets rely on (a request r, a handler's w, a
//     policy p, a secret, handlers and functions the application would
//     have) are the package-level variables of preamble, the same for every
//     snippet. Nothing else is added: a value a snippet declares and never
//     uses fails, as it would in a program.
package readmecheck

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// knownPackages are the packages rule 3 imports by name: the standard
// library's that the snippets use and those of this module and its
// dependencies that the README names.
var knownPackages = map[string]string{
	"context":    "context",
	"errors":     "errors",
	"fmt":        "fmt",
	"http":       "net/http",
	"log":        "log",
	"slog":       "log/slog",
	"time":       "time",
	"chi":        "github.com/go-chi/chi/v5",
	"jose":       "github.com/go-jose/go-jose/v4",
	"jwt":        "github.com/go-jose/go-jose/v4/jwt",
	"authorizer": "github.com/pyramid-go/jwtauth/authorizer",
	"chiadapter": "github.com/pyramid-go/jwtauth/chiadapter",
	"policy":     "github.com/pyramid-go/jwtauth/policy",
	"basic":      "github.com/pyramid-go/jwtauth/policy/basic",
	"multiauth":  "github.com/pyramid-go/jwtauth/policy/multiauth",
	"settings":   "github.com/pyramid-go/jwtauth/settings",
}

// preamble declares the free names of rule 5, in a file of its own in
// each snippet's package.
const preamble = `package readme

import (
	"context"
	"net/http"

	"github.com/pyramid-go/jwtauth/policy"
	"github.com/pyramid-go/jwtauth/policy/basic"
)

var (
	r   *http.Request       // the request a handler serves
	w   http.ResponseWriter // and its response
	req *http.Request       // an outgoing request
	ctx context.Context     // a context below the HTTP layer (a request's)
	p   *policy.JWT         // the policy

	secret []byte // an HMAC secret

	me, show, update, remove http.HandlerFunc // the application's handlers

	lookUpGroups        func(table, userid string) ([]string, bool) // a group finder's look-up
	checkServiceAccount basic.Check                                  // a Basic policy's password check
)
`

// snippet is one ```go block of the README.
type snippet struct {
	line int // the README line of its first line of code
	code string
}

func TestREADMESnippetsCompile(t *testing.T) {
	root := moduleRoot(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	snippets := goBlocks(string(readme))
	if len(snippets) == 0 {
		t.Fatal("README.md has no ```go block")
	}

	dir, err := os.MkdirTemp(root, "_readmecheck-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	var patterns []string
	files := map[string]string{} // package directory → its snippet's file, for the messages
	for i, s := range snippets {
		src, err := complete(s.code)
		if err != nil {
			t.Errorf("README.md:%d: the snippet cannot be completed: %v", s.line, err)
			continue
		}
		pkg := filepath.Join(dir, fmt.Sprintf("s%02d_line%d", i+1, s.line))
		if err := os.Mkdir(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, text := range map[string]string{"preamble.go": preamble, "snippet.go": src} {
			if err := os.WriteFile(filepath.Join(pkg, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		rel, _ := filepath.Rel(root, pkg)
		patterns = append(patterns, "./"+filepath.ToSlash(rel))
		files[filepath.Base(pkg)] = src
	}
	if t.Failed() {
		return
	}

	for _, args := range [][]string{{"build"}, {"vet"}} {
		cmd := exec.Command(goTool(), append(args, patterns...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly", "GOWORK=off", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go %s of the README's snippets: %v\n%s", args[0], err, out)
			for name, src := range files {
				if bytes.Contains(out, []byte(name)) {
					t.Logf("%s/snippet.go, as completed:\n%s", name, numbered(src))
				}
			}
			return // vet would only repeat build's errors
		}
	}
}

// moduleRoot returns the nearest directory above the working directory
// that holds go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// goTool is the go command of the toolchain running the test.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		if p := filepath.Join(goroot, "bin", "go"); fileExists(p) {
			return p
		}
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// goBlocks returns the ```go blocks of a Markdown text (rule 1).
func goBlocks(md string) []snippet {
	var out []snippet
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```go" {
			continue
		}
		start := i + 1
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
		}
		out = append(out, snippet{line: start + 1, code: strings.Join(lines[start:i], "\n")})
	}
	return out
}

var declStart = regexp.MustCompile(`^(func|var|type|const)\b`)

// complete makes a snippet a Go file of package readme (rules 2 to 4).
func complete(code string) (string, error) {
	lines := strings.Split(code, "\n")
	var imports, decls, stmts []string
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	if i < len(lines) && strings.HasPrefix(lines[i], "import") {
		j, ok := declEnd(lines, i)
		if !ok {
			return "", fmt.Errorf("its import block does not parse")
		}
		imports, i = lines[i:j], j
	}
	for i < len(lines) {
		if declStart.MatchString(lines[i]) {
			j, ok := declEnd(lines, i)
			if !ok {
				return "", fmt.Errorf("the declaration of its line %d does not parse", i+1)
			}
			decls = append(decls, lines[i:j]...)
			i = j
			continue
		}
		stmts = append(stmts, lines[i])
		i++
	}

	own := strings.Join(imports, "\n")
	body := strings.Join(decls, "\n") + "\n\nfunc snippet() {\n" + strings.Join(stmts, "\n") + "\n}\n"
	f, err := parser.ParseFile(token.NewFileSet(), "snippet.go", "package readme\n"+own+"\n"+body, 0)
	if err != nil {
		return "", err
	}
	named := map[string]bool{}
	for _, spec := range f.Imports {
		named[importName(spec)] = true
	}
	var extra []string
	ast.Inspect(f, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && !named[x.Name] {
				if p, known := knownPackages[x.Name]; known {
					named[x.Name] = true
					extra = append(extra, "\t"+strconv.Quote(p))
				}
			}
		}
		return true
	})
	src := "package readme\n\n"
	if own != "" {
		src += own + "\n\n"
	}
	if len(extra) > 0 {
		src += "import (\n" + strings.Join(extra, "\n") + "\n)\n\n"
	}
	return src + body, nil
}

// declEnd returns the end of the declaration that starts at lines[i]: the
// first j for which lines[i:j] parses as top-level declarations.
func declEnd(lines []string, i int) (int, bool) {
	for j := i + 1; j <= len(lines); j++ {
		if _, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+strings.Join(lines[i:j], "\n"), 0); err == nil {
			return j, true
		}
	}
	return 0, false
}

// importName is the name a file's import binds.
func importName(spec *ast.ImportSpec) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	p, _ := strconv.Unquote(spec.Path.Value)
	for name, known := range knownPackages {
		if known == p {
			return name
		}
	}
	return path.Base(p)
}

// numbered is src with line numbers, as the go tool's messages count them.
func numbered(src string) string {
	var b strings.Builder
	for i, l := range strings.Split(src, "\n") {
		fmt.Fprintf(&b, "%4d  %s\n", i+1, l)
	}
	return b.String()
}

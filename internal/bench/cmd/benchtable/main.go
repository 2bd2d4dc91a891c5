// Command benchtable reads the output of the bench module's benchmarks
//
//	go test -run '^$' -bench . -benchmem -count 5 | go run ./cmd/benchtable
//
// (from standard input, or from the files named as arguments) and prints
// one Markdown table per workload: for each algorithm, every contender's
// median ns/op, B/op and allocs/op across the runs, and its ns/op as a
// multiple of the fastest peer's and of the floor's.
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// peers are the other libraries; "jwtauth" is this project.
var peers = []string{"jwtauth-go-chi", "auth0", "golang-jwt", "go-oidc"}

// order is the order of the rows within an algorithm.
var order = []string{"jwtauth", "jwtauth-go-chi", "auth0", "golang-jwt", "go-oidc", "go-jose", "floor", "none", "store-none", "store-memory", "store-redis", "redis-round-trip"}

// baselines are the workloads that compare parts rather than whole
// requests: they have no peers, and each row is set against the named
// row instead of the floor.
var baselines = map[string]string{
	"claims":          "encoding-json",
	"revocation-warm": "store-none",
	"revocation-cold": "store-none",
}

// references are rows that measure a part, not a whole request: a
// baseline table gives them no ratio.
var references = map[string]bool{"redis-round-trip": true}

var labels = map[string]string{
	"encoding-json":                "encoding/json, UseNumber (lenient)",
	"jsontext-check+encoding-json": "jsontext's strict check, then encoding/json",
	"json-v2-experiment":           "go-json-experiment Unmarshal (strict)",
	"strictjson":                   "internal/strictjson on jsontext (strict; this)",
	"jwtauth":                      "jwtauth (this)",
	"jwtauth-go-chi":               "go-chi/jwtauth v5",
	"auth0":                        "auth0 go-jwt-middleware v3",
	"golang-jwt":                   "golang-jwt v5 (bare parser)",
	"go-oidc":                      "coreos/go-oidc v3 (IDTokenVerifier)",
	"go-jose":                      "go-jose v4 alone (reference)",
	"floor":                        "floor (stdlib)",
	"none":                         "no auth (chi + recorder only)",
	"store-none":                   "jwtauth, no revocation store",
	"store-memory":                 "jwtauth + in-memory store",
	"store-redis":                  "jwtauth + Redis store (client-side cached)",
	"redis-round-trip":             "the Redis store alone, keys never seen (one round trip; reference)",
}

// line matches "BenchmarkAuth/alg=HS256/work=cold/impl=jwtauth-2  N  x ns/op  y B/op  z allocs/op".
var line = regexp.MustCompile(`^Benchmark\w*/alg=([^/\s]+)/work=([^/\s]+)/impl=(\S+?)(?:-(\d+))?\s+\d+\s+(.*)$`)

type key struct{ alg, work, impl string }

type samples struct{ ns, bytes, allocs []float64 }

func main() {
	var in io.Reader = os.Stdin
	if len(os.Args) > 1 {
		var readers []io.Reader
		for _, name := range os.Args[1:] {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "benchtable:", err)
				os.Exit(1)
			}
			defer f.Close()
			readers = append(readers, f)
		}
		in = io.MultiReader(readers...)
	}
	if err := run(in, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out, progress io.Writer) error {
	data := map[key]*samples{}
	var algs, works, machine []string
	failed := false
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		text := sc.Text()
		for _, p := range []string{"goos:", "goarch:", "cpu:"} {
			if strings.HasPrefix(text, p) && !slices.Contains(machine, strings.TrimSpace(text)) {
				machine = append(machine, strings.TrimSpace(text))
			}
		}
		if strings.HasPrefix(text, "--- FAIL") || strings.HasPrefix(text, "FAIL") || strings.Contains(text, "--- SKIP") {
			fmt.Fprintln(progress, text)
			failed = failed || !strings.Contains(text, "SKIP")
			continue
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		fmt.Fprint(progress, ".")
		if procs := "GOMAXPROCS: " + cmp.Or(m[4], "1"); !slices.Contains(machine, procs) {
			machine = append(machine, procs)
		}
		k := key{m[1], m[2], m[3]}
		if !slices.Contains(algs, k.alg) {
			algs = append(algs, k.alg)
		}
		if !slices.Contains(works, k.work) {
			works = append(works, k.work)
		}
		s := data[k]
		if s == nil {
			s = &samples{}
			data[k] = s
		}
		fields := strings.Fields(m[5])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			switch fields[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	fmt.Fprintln(progress)
	if err := sc.Err(); err != nil {
		return err
	}
	if len(data) == 0 {
		return fmt.Errorf("no benchmark results in the input")
	}
	if len(machine) > 0 {
		fmt.Fprintf(out, "%s, %s\n\n", strings.Join(machine, ", "), runtime.Version())
	}
	for _, work := range works {
		runs := 0
		for k, s := range data {
			if k.work == work {
				runs = max(runs, len(s.ns))
			}
		}
		if base, ok := baselines[work]; ok {
			fmt.Fprintf(out, "work=%s (medians of %d runs; ratios are ns/op over the baseline's: %s)\n\n", work, runs, labelOf(base))
			fmt.Fprintln(out, "| contender | ns/op | B/op | allocs/op | × baseline |")
			fmt.Fprintln(out, "|---|--:|--:|--:|--:|")
			for _, alg := range algs {
				bs := data[key{alg, work, base}]
				for _, impl := range implsOf(data, alg, work) {
					s := data[key{alg, work, impl}]
					ratioTo := 0.0
					if bs != nil && !references[impl] {
						ratioTo = median(bs.ns)
					}
					fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", labelOf(impl), count(median(s.ns)), count(median(s.bytes)), count(median(s.allocs)), ratio(median(s.ns), ratioTo))
				}
			}
			fmt.Fprintln(out)
			continue
		}
		fmt.Fprintf(out, "work=%s (medians of %d runs; ratios are ns/op over the fastest peer's and over the floor's)\n\n", work, runs)
		fmt.Fprintln(out, "| alg | contender | ns/op | B/op | allocs/op | × fastest peer | × floor |")
		fmt.Fprintln(out, "|---|---|--:|--:|--:|--:|--:|")
		for _, alg := range algs {
			fastest, fastestName := 0.0, ""
			for _, p := range peers {
				if s := data[key{alg, work, p}]; s != nil && len(s.ns) > 0 {
					if ns := median(s.ns); fastestName == "" || ns < fastest {
						fastest, fastestName = ns, p
					}
				}
			}
			floor := 0.0
			if s := data[key{alg, work, "floor"}]; s != nil && len(s.ns) > 0 {
				floor = median(s.ns)
			}
			for _, impl := range implsOf(data, alg, work) {
				s := data[key{alg, work, impl}]
				ns := median(s.ns)
				label := labelOf(impl)
				if impl == fastestName {
					label += " ★"
				}
				fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s | %s |\n", alg, label,
					count(ns), count(median(s.bytes)), count(median(s.allocs)), ratio(ns, fastest), ratio(ns, floor))
			}
		}
		fmt.Fprintln(out, "\n★ the fastest peer (go-chi/jwtauth, auth0, golang-jwt, go-oidc) for the algorithm.")
		fmt.Fprintln(out)
	}
	if failed {
		return fmt.Errorf("some benchmarks failed (see above)")
	}
	return nil
}

// labelOf is impl's label in the tables.
func labelOf(impl string) string {
	if l, ok := labels[impl]; ok {
		return l
	}
	return impl
}

// implsOf lists the contenders measured for alg and work, known ones first.
func implsOf(data map[key]*samples, alg, work string) []string {
	var known, other []string
	for k := range data {
		if k.alg != alg || k.work != work {
			continue
		}
		if slices.Contains(order, k.impl) {
			known = append(known, k.impl)
		} else {
			other = append(other, k.impl)
		}
	}
	slices.SortFunc(known, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
	slices.Sort(other)
	return append(known, other...)
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// count formats a whole number with thousands separators.
func count(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func ratio(v, base float64) string {
	if base == 0 {
		return "–"
	}
	return strconv.FormatFloat(v/base, 'f', 2, 64)
}

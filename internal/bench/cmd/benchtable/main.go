// Command benchtable reads the output of the bench module's benchmarks
//
//	go test -run '^$' -bench . -benchmem -count 5 | go run ./cmd/benchtable
//
// (from standard input, or from the files named as arguments) and prints
// one Markdown table per workload, of medians across the runs. A workload
// of whole requests (cold, warm, bare) gives, for each algorithm, every
// contender's ns/op, B/op and allocs/op, and its ns/op as a multiple of
// the fastest peer's and of the floor's; cold and warm are followed by
// their targets (cold: this project's cost above the floor over go-jose
// alone's, its allocations over go-jose alone's, its time over go-oidc's;
// warm: its time over the fastest peer's). A workload of parts or of
// settings (claims, revocation, the scale workloads cycle and keys) sets
// each row against its baseline row, met or not met where it has a
// target; one measured by custom metrics (heap, in B/entry) gives their
// medians against their targets.
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
var order = []string{"jwtauth", "jwtauth-go-chi", "auth0", "golang-jwt", "go-oidc", "go-jose", "go-jose-parse", "floor", "none", "store-none", "store-memory", "store-redis", "redis-round-trip"}

// baselines are the workloads that compare parts rather than whole
// requests, or one setting of this project against another: they have no
// peers, and each row is set against the named row instead of the floor.
var baselines = map[string]string{
	"claims":          "encoding-json",
	"revocation-warm": "store-none",
	"revocation-cold": "store-none",
	"cycle":           "jwtauth-cold",
	"keys":            "keys-1",
}

// baselineTargets are the targets of the baseline workloads that have one:
// the most a row's ratio to the baseline may be.
var baselineTargets = map[string]float64{"cycle": 1.00, "keys": 1.05}

// deltas are the baseline workloads whose tables also give each row's B/op
// and allocs/op over the baseline's: what the key selection allocates.
var deltas = map[string]bool{"keys": true}

// metricTargets are the custom metrics (b.ReportMetric) with a target: the
// most a row's median may be.
var metricTargets = map[string]float64{"B/entry": 700}

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
	"go-jose-parse":                "go-jose v4 ParseSignedCompact only (reference)",
	"floor":                        "floor (stdlib)",
	"none":                         "no auth (chi + recorder only)",
	"store-none":                   "jwtauth, no revocation store",
	"store-memory":                 "jwtauth + in-memory store",
	"store-redis":                  "jwtauth + Redis store (client-side cached)",
	"redis-round-trip":             "the Redis store alone, keys never seen (one round trip; reference)",
	"jwtauth-cold":                 "jwtauth, a new token every request (cache_size 10,000)",
	"jwtauth-cycle-50k":            "jwtauth, 50,000 tokens cycled (cache_size 10,000)",
	"keys-1":                       "jwtauth, key set of 1 key",
	"keys-1000":                    "jwtauth, key set of 1,000 keys (kid picks the last)",
	"cache-10000":                  "jwtauth, cache filled with 10,000 tokens of 500 bytes",
}

// line matches "BenchmarkAuth/alg=HS256/work=cold/impl=jwtauth-2  N  x ns/op  y B/op  z allocs/op".
var line = regexp.MustCompile(`^Benchmark\w*/alg=([^/\s]+)/work=([^/\s]+)/impl=(\S+?)(?:-(\d+))?\s+\d+\s+(.*)$`)

type key struct{ alg, work, impl string }

// samples are one row's values across the runs: the standard ones, and the
// custom metrics by unit.
type samples struct {
	ns, bytes, allocs []float64
	metrics           map[string][]float64
}

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
	detail := false // the lines after a FAIL or SKIP, indented, say why
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		text := sc.Text()
		if detail && strings.HasPrefix(text, "    ") {
			fmt.Fprintln(progress, text)
			continue
		}
		detail = false
		for _, p := range []string{"goos:", "goarch:", "cpu:"} {
			if strings.HasPrefix(text, p) && !slices.Contains(machine, strings.TrimSpace(text)) {
				machine = append(machine, strings.TrimSpace(text))
			}
		}
		if strings.HasPrefix(text, "--- FAIL") || strings.HasPrefix(text, "FAIL") || strings.Contains(text, "--- SKIP") {
			fmt.Fprintln(progress, text)
			failed = failed || !strings.Contains(text, "SKIP")
			detail = strings.HasPrefix(strings.TrimSpace(text), "--- ")
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
			default:
				if s.metrics == nil {
					s.metrics = map[string][]float64{}
				}
				s.metrics[fields[i+1]] = append(s.metrics[fields[i+1]], v)
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
		if units := metricsOf(data, work); len(units) > 0 {
			metricTable(out, data, algs, work, runs, units)
			continue
		}
		if base, ok := baselines[work]; ok {
			baselineTable(out, data, algs, work, runs, base)
			continue
		}
		peerTable(out, data, algs, work, runs)
		switch work {
		case "cold":
			coldTargets(out, data, algs)
		case "warm":
			warmTargets(out, data, algs)
		}
	}
	if failed {
		return fmt.Errorf("some benchmarks failed (see above)")
	}
	return nil
}

// peerTable is a workload of whole requests: each row against the
// fastest peer and the floor.
func peerTable(out io.Writer, data map[key]*samples, algs []string, work string, runs int) {
	fmt.Fprintf(out, "work=%s (medians of %d runs; ratios are ns/op over the fastest peer's and over the floor's)\n\n", work, runs)
	fmt.Fprintln(out, "| alg | contender | ns/op | B/op | allocs/op | × fastest peer | × floor |")
	fmt.Fprintln(out, "|---|---|--:|--:|--:|--:|--:|")
	for _, alg := range algs {
		fastest, fastestName := fastestPeer(data, alg, work)
		floor := nsOf(data, alg, work, "floor")
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
	fmt.Fprintf(out, "\n★ the fastest peer (%s) for the algorithm.\n\n", strings.Join(peerNames(), ", "))
}

// peerNames are the peers' short names, for the footnote.
func peerNames() []string {
	short := map[string]string{"jwtauth-go-chi": "go-chi/jwtauth"}
	var names []string
	for _, p := range peers {
		names = append(names, cmp.Or(short[p], p))
	}
	return names
}

// fastestPeer is the peer of the lowest median ns/op for alg and work.
func fastestPeer(data map[key]*samples, alg, work string) (float64, string) {
	fastest, fastestName := 0.0, ""
	for _, p := range peers {
		if s := data[key{alg, work, p}]; s != nil && len(s.ns) > 0 {
			if ns := median(s.ns); fastestName == "" || ns < fastest {
				fastest, fastestName = ns, p
			}
		}
	}
	return fastest, fastestName
}

// nsOf is the median ns/op of a row, 0 when it was not measured.
func nsOf(data map[key]*samples, alg, work, impl string) float64 {
	if s := data[key{alg, work, impl}]; s != nil {
		return median(s.ns)
	}
	return 0
}

// coldTargets is the cold table's targets, per algorithm: this project's
// cost above the floor over go-jose alone's (at most 0.50), its allocations
// over go-jose alone's (at most 0.75), and its time over go-oidc's (below
// 1). Beside the first, the least that ratio can be for a verifier that
// lets go-jose parse every token: go-jose's parse (the bare go-jose-parse
// row) and the router without authentication (cold none), which every
// such verifier pays on top of the signature check, over go-jose alone's
// cost above the floor. (The HMAC floor also decodes the claims, so for
// HS256 it is a close estimate rather than a bound.)
func coldTargets(out io.Writer, data map[key]*samples, algs []string) {
	fmt.Fprintln(out, "work=cold targets (ours: jwtauth; go-jose: go-jose v4 alone; each ratio's target in its heading)")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| alg | ours − floor, ns | go-jose − floor, ns | (ours − floor) / (go-jose − floor) ≤ 0.50 | least on go-jose: (parse + router) / (go-jose − floor) | allocs ours / go-jose ≤ 0.75 | ours / go-oidc < 1 |")
	fmt.Fprintln(out, "|---|--:|--:|--:|--:|--:|--:|")
	for _, alg := range algs {
		ours, jose := data[key{alg, "cold", "jwtauth"}], data[key{alg, "cold", "go-jose"}]
		if ours == nil || jose == nil {
			continue
		}
		floor := nsOf(data, alg, "cold", "floor")
		oursAbove, joseAbove := median(ours.ns)-floor, median(jose.ns)-floor
		above, least, allocs, oidc := "–", "–", "–", "– (no go-oidc row)"
		switch {
		case floor > 0 && joseAbove > 0:
			above = verdict(oursAbove/joseAbove, 0.50, false)
			parse, router := nsOf(data, alg, "bare", "go-jose-parse"), nsOf(data, alg, "cold", "none")
			if parse > 0 && router > 0 {
				least = fmt.Sprintf("%.2f", (parse+router)/joseAbove)
			}
		case floor > 0:
			above = "– (go-jose not above the floor: a noisy run)"
		}
		if a := median(jose.allocs); a > 0 {
			allocs = verdict(median(ours.allocs)/a, 0.75, false)
		}
		if o := nsOf(data, alg, "cold", "go-oidc"); o > 0 {
			oidc = verdict(median(ours.ns)/o, 1, true)
		}
		floorCol := func(v float64) string {
			if floor == 0 {
				return "–"
			}
			return signed(v)
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s | %s |\n", alg, floorCol(oursAbove), floorCol(joseAbove), above, least, allocs, oidc)
	}
	fmt.Fprintln(out)
}

// warmTargets is the warm table's target, per algorithm: this project's
// time over the fastest peer's, at most 0.10 (10× faster), 0.33 for HMAC.
func warmTargets(out io.Writer, data map[key]*samples, algs []string) {
	fmt.Fprintln(out, "work=warm targets (jwtauth at least 10× faster than the fastest peer, 3× for HS256)")
	fmt.Fprintln(out)
	fmt.Fprintln(out, "| alg | jwtauth × fastest peer | target |")
	fmt.Fprintln(out, "|---|--:|--:|")
	for _, alg := range algs {
		fastest, _ := fastestPeer(data, alg, "warm")
		ours := nsOf(data, alg, "warm", "jwtauth")
		if fastest == 0 || ours == 0 {
			continue
		}
		target := 0.10
		if strings.HasPrefix(alg, "HS") {
			target = 0.33
		}
		fmt.Fprintf(out, "| %s | %s | ≤ %.2f |\n", alg, verdict(ours/fastest, target, false), target)
	}
	fmt.Fprintln(out)
}

// baselineTable is a workload of parts, or of one setting against another:
// each row against the baseline row of its algorithm.
func baselineTable(out io.Writer, data map[key]*samples, algs []string, work string, runs int, base string) {
	target, hasTarget := baselineTargets[work]
	fmt.Fprintf(out, "work=%s (medians of %d runs; ratios are ns/op over the baseline's: %s", work, runs, labelOf(base))
	if hasTarget {
		fmt.Fprintf(out, "; target ≤ %.2f", target)
	}
	fmt.Fprint(out, ")\n\n")
	multi := 0
	for _, alg := range algs {
		if len(implsOf(data, alg, work)) > 0 {
			multi++
		}
	}
	head, rule := "| contender | ns/op | B/op | allocs/op | × baseline |", "|---|--:|--:|--:|--:|"
	if multi > 1 {
		head, rule = "| alg "+head, "|---"+rule
	}
	if deltas[work] {
		head, rule = head+" B/op over baseline | allocs/op over baseline |", rule+"--:|--:|"
	}
	fmt.Fprintln(out, head)
	fmt.Fprintln(out, rule)
	for _, alg := range algs {
		bs := data[key{alg, work, base}]
		for _, impl := range implsOf(data, alg, work) {
			s := data[key{alg, work, impl}]
			r := "–"
			if bs != nil && !references[impl] {
				r = ratio(median(s.ns), median(bs.ns))
				if hasTarget && impl != base && median(bs.ns) > 0 {
					r = verdict(median(s.ns)/median(bs.ns), target, false)
				}
			}
			row := fmt.Sprintf("| %s | %s | %s | %s | %s |", labelOf(impl), count(median(s.ns)), count(median(s.bytes)), count(median(s.allocs)), r)
			if multi > 1 {
				row = "| " + alg + " " + row
			}
			if deltas[work] {
				db, da := "–", "–"
				if bs != nil {
					db, da = signed(median(s.bytes)-median(bs.bytes)), signed(median(s.allocs)-median(bs.allocs))
				}
				row += fmt.Sprintf(" %s | %s |", db, da)
			}
			fmt.Fprintln(out, row)
		}
	}
	fmt.Fprintln(out)
}

// metricsOf lists the custom metrics of a workload's rows, sorted.
func metricsOf(data map[key]*samples, work string) []string {
	var units []string
	for k, s := range data {
		if k.work != work {
			continue
		}
		for u := range s.metrics {
			if !slices.Contains(units, u) {
				units = append(units, u)
			}
		}
	}
	slices.Sort(units)
	return units
}

// metricTable is a workload measured by custom metrics (the heap per cached
// token): their medians, each against its target when it has one.
func metricTable(out io.Writer, data map[key]*samples, algs []string, work string, runs int, units []string) {
	fmt.Fprintf(out, "work=%s (medians of %d runs", work, runs)
	for _, u := range units {
		if t, ok := metricTargets[u]; ok {
			fmt.Fprintf(out, "; target %s ≤ %s", u, count(t))
		}
	}
	fmt.Fprint(out, ")\n\n")
	head, rule := "| alg | contender |", "|---|---|"
	for _, u := range units {
		head, rule = head+" "+u+" |", rule+"--:|"
	}
	fmt.Fprintln(out, head)
	fmt.Fprintln(out, rule)
	for _, alg := range algs {
		for _, impl := range implsOf(data, alg, work) {
			s := data[key{alg, work, impl}]
			row := fmt.Sprintf("| %s | %s |", alg, labelOf(impl))
			for _, u := range units {
				v, ok := s.metrics[u]
				switch t, hasTarget := metricTargets[u]; {
				case !ok:
					row += " – |"
				case hasTarget:
					row += fmt.Sprintf(" %s (%s) |", count(median(v)), metOrNot(median(v) <= t))
				default:
					row += " " + count(median(v)) + " |"
				}
			}
			fmt.Fprintln(out, row)
		}
	}
	fmt.Fprintln(out)
}

// verdict formats a ratio and whether it meets its target: at most target,
// or below it when strict.
func verdict(v, target float64, strict bool) string {
	met := v <= target
	if strict {
		met = v < target
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + " (" + metOrNot(met) + ")"
}

func metOrNot(met bool) string {
	if met {
		return "met"
	}
	return "not met"
}

// signed formats a whole number with its sign when negative or positive.
func signed(v float64) string {
	switch {
	case v > 0:
		return "+" + count(v)
	case v < 0:
		return "−" + count(-v)
	}
	return "0"
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

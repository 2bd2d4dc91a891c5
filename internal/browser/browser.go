// Package browser drives a real headless Chromium from tests, through
// chromedp: [New] starts one browser for a test and stops it when the test
// ends, and the methods of [Browser] navigate, read, click, type and run
// script, failing the test with a message that says what was asked and what
// the page showed. Only _test.go files import it.
//
// The browser is Debian's chromium package. The binary is the one named by
// the environment variable CHROMIUM, else /usr/bin/chromium, else chromium
// on PATH; scripts/ensure-chromium.sh installs it (make test runs it first).
// A test that finds none fails, saying so; JWTAUTHTEST_SKIP_BROWSER=1 skips the
// browser tests instead (on a machine that cannot have chromium).
//
// Each browser is headless, with a user data directory of its own (removed
// at the end), no GPU, shared memory in the temporary directory rather than
// /dev/shm (small in containers), and no sandbox when the test runs as root
// (Chromium refuses to start as root with one). Every step is bounded by
// [StepTimeout] and the browser's whole life by [LifeTimeout] (and by the
// test binary's -timeout), so a page that never answers fails the test
// rather than hanging it. At the end the browser is closed and the test
// fails if any of its processes outlives that.
//
// For what the methods do not cover, [Browser.Context] is a chromedp context
// of the browser's tab: chromedp.Run(b.Context(), action) and
// chromedp.Call(b.Context(), command, params) work there, for instance
// chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{}) for the
// browser's own view of its cookies, HttpOnly ones included, and
// chromedp.NewContext(b.Context()) for a second tab of the same browser.
// Use [Browser.Step] for a context bounded like the methods' steps.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pyramid-go/jwtauth/internal/testbin"
	"github.com/pyramid-go/jwtauth/internal/testproc"
)

// SkipEnv is the environment variable that, set to 1, makes [New] skip the
// test instead of failing it when no chromium can be found.
const SkipEnv = "JWTAUTHTEST_SKIP_BROWSER"

// PathEnv is the environment variable that names the chromium binary to use,
// ahead of /usr/bin/chromium and PATH.
const PathEnv = "CHROMIUM"

// StepTimeout bounds each step of a [Browser]: a navigation, a click, a
// read, a script, the whole of a wait for text. Chromium's first page on a
// busy 2-core machine running the race detector takes a few seconds.
const StepTimeout = 20 * time.Second

// LifeTimeout bounds the life of a [Browser], from its start to its close.
const LifeTimeout = 2 * time.Minute

// closeTimeout bounds the graceful close of the browser at the end of the
// test; past it the browser is killed.
const closeTimeout = 10 * time.Second

// Find returns the chromium binary that [New] would start: $CHROMIUM when
// set (it must exist), else /usr/bin/chromium, else chromium on PATH.
func Find() (string, error) {
	return testbin.Find(PathEnv, chromium.DefaultPath, chromium.Name)
}

// chromium is how [New] finds chromium, and what it says without one.
var chromium = testbin.Program{
	Name:        "chromium",
	PathEnv:     PathEnv,
	DefaultPath: "/usr/bin/chromium",
	Package:     "chromium",
	Script:      "scripts/ensure-chromium.sh (make browser)",
	SkipEnv:     SkipEnv,
	Tests:       "browser tests",
	Skipping:    "not starting a browser",
}

// Browser is one headless Chromium with one tab, for one test. Its methods
// fail the test (t.Fatalf) when a step fails or times out, so call them
// from the test's own goroutine.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab; its life is bounded by LifeTimeout
	out *syncBuffer     // chromium's output and chromedp's error log

	started, outputShown bool
}

// New starts a headless Chromium for the test t and returns it with one
// blank tab. The browser is closed by t.Cleanup, and the test fails if a
// process of it is left running; a test that failed first gets a
// screenshot of the page (its path is logged) and chromium's output.
// Without a chromium binary (see [Find]) the test fails, naming the script
// that installs one. With JWTAUTHTEST_SKIP_BROWSER=1 the test is skipped before
// any of this.
func New(t testing.TB) *Browser {
	t.Helper()
	bin := testbin.Require(t, chromium)
	dataDir, err := os.MkdirTemp("", "jwtauth-chromium-")
	if err != nil {
		t.Fatal(err)
	}

	life, lifeCancel := context.WithTimeout(context.Background(), lifeTimeout(t))
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(dataDir),
		chromedp.CombinedOutput(out),
	)
	if os.Getuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(life, opts...)
	logf := func(format string, args ...any) { fmt.Fprintf(out, "chromedp: "+format+"\n", args...) }
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf), chromedp.WithLogf(logf))

	b := &Browser{t: t, ctx: ctx, out: out}
	t.Cleanup(func() {
		b.close(cancel, allocCancel, lifeCancel, dataDir)
	})

	// The first action starts the browser and binds it to ctx (bounded by
	// LifeTimeout only); later steps get contexts of their own.
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		b.outputShown = true
		t.Fatalf("starting %s: %v%s", bin, err, b.output())
	}
	b.started = true
	t.Logf("browser: %s started in %v", bin, time.Since(start).Round(time.Millisecond))
	return b
}

// lifeTimeout is LifeTimeout, or less when the test binary's deadline comes
// sooner, leaving time for the cleanup.
func lifeTimeout(t testing.TB) time.Duration {
	d := LifeTimeout
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := dt.Deadline(); ok {
			if left := time.Until(deadline) - closeTimeout - 5*time.Second; left < d {
				d = max(left, time.Second)
			}
		}
	}
	return d
}

// close closes the browser gracefully, kills it past closeTimeout, waits for
// its process, and fails the test if any process started with its user data
// directory is still there; it removes that directory.
func (b *Browser) close(cancel, allocCancel, lifeCancel context.CancelFunc, dataDir string) {
	t := b.t
	var pid int
	if c := chromedp.FromContext(b.ctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		pid = c.Browser.Process().Pid
	}
	if t.Failed() && b.started {
		b.screenshot()
	}
	closed := make(chan error, 1)
	go func() { closed <- chromedp.Cancel(b.ctx) }()
	select {
	case err := <-closed:
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Logf("browser: closing: %v", err)
		}
	case <-time.After(closeTimeout):
		t.Errorf("browser: no graceful close in %v; killing it", closeTimeout)
	}
	cancel()
	allocCancel() // kills what is left and waits for the process
	lifeCancel()

	if pid != 0 && syscall.Kill(pid, 0) == nil {
		t.Errorf("browser: chromium (pid %d) still runs after the close", pid)
	}
	if left := processesUsing(dataDir); len(left) > 0 {
		// Child processes can outlive the main one for a moment.
		time.Sleep(500 * time.Millisecond)
		if left = processesUsing(dataDir); len(left) > 0 {
			t.Errorf("browser: chromium processes %v outlive the browser; killing them", left)
			for _, p := range left {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
	var err error
	for range 20 { // a late write of Chromium's can make RemoveAll fail once
		if err = os.RemoveAll(dataDir); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Errorf("browser: removing its user data directory: %v", err)
	}
	if t.Failed() && !b.outputShown {
		t.Logf("browser: chromium's output:%s", b.output())
	}
}

// screenshot saves a picture of the page as it was when the test failed,
// in a new folder of the temporary directory, and logs where.
func (b *Browser) screenshot() {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("browser: no screenshot of the failure: %v", err)
		return
	}
	dir, err := os.MkdirTemp("", "jwtauth-browser-failure-")
	if err == nil {
		path := filepath.Join(dir, "screenshot.png")
		if err = os.WriteFile(path, png, 0o644); err == nil {
			b.t.Logf("browser: the page when the test failed: %s", path)
			return
		}
	}
	b.t.Logf("browser: saving the screenshot of the failure: %v", err)
}

// processesUsing returns the processes whose command line has
// --user-data-dir=dir (Chromium passes it to each of its processes).
func processesUsing(dir string) []int {
	want := []byte("--user-data-dir=" + dir)
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
			if bytes.Equal(arg, want) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// output is the last part of chromium's output, for a failure message.
func (b *Browser) output() string { return testproc.Tail(b.out.String(), "chromium") }

// Context returns the chromedp context of the browser's tab, for chromedp
// calls the methods do not cover. Its life is the browser's: bound a step
// with [Browser.Step].
func (b *Browser) Context() context.Context { return b.ctx }

// Step returns a context of the browser's tab bounded by [StepTimeout], and
// its cancel func.
func (b *Browser) Step() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, StepTimeout)
}

// do runs actions as one step, failing the test with what as the step's name.
func (b *Browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := b.Step()
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// Navigate loads url in the tab and waits for its load event.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.do("navigate to "+url, chromedp.Navigate(url))
}

// Reload reloads the page and waits for its load event.
func (b *Browser) Reload() {
	b.t.Helper()
	b.do("reload", chromedp.Reload())
}

// Location returns the URL of the page.
func (b *Browser) Location() string {
	b.t.Helper()
	ctx, cancel := b.Step()
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browser: location: %v", err)
	}
	return loc
}

// Text returns the rendered text (innerText) of the first element matching
// the CSS selector sel, once there is one.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.Step()
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return text
}

// Click clicks, with the mouse, the first element matching the CSS selector
// sel, once it is visible.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// Fill empties the input or textarea matching the CSS selector sel and
// types value into it, key by key, as a user would.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	quoted, err := json.Marshal(sel)
	if err != nil {
		b.t.Fatal(err)
	}
	// Not chromedp.SetValue(sel, ""): chromedp v0.23.1 leaves an empty
	// string argument out of the call, so the field becomes "undefined".
	empty := fmt.Sprintf(`document.querySelector(%s).value = ""`, quoted)
	b.do("fill "+sel,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](empty),
		chromedp.SendKeys(chromedp.CSS(sel), value))
}

// Eval evaluates the JavaScript expression js in the page and decodes its
// value, as JSON, into T: Eval[string](b, "document.cookie"). A promise is
// awaited.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	ctx, cancel := b.Step()
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: evaluate %s: %v", js, err)
	}
	return v
}

// WaitText waits until the rendered text of the first element matching the
// CSS selector sel satisfies match, and returns that text. It fails the
// test after [StepTimeout], with the last text seen (or why none was). The
// page may navigate meanwhile: each look is made in the page of that moment.
func (b *Browser) WaitText(sel string, match func(text string) bool) string {
	b.t.Helper()
	quoted, err := json.Marshal(sel)
	if err != nil {
		b.t.Fatal(err)
	}
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%s); return e === null ? {found: false, text: ""} : {found: true, text: e.innerText}; })()`, quoted)
	type look struct {
		Found bool   `json:"found"`
		Text  string `json:"text"`
	}
	deadline := time.Now().Add(StepTimeout)
	last := "no look yet"
	for {
		ctx, cancel := context.WithDeadline(b.ctx, deadline)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[look](js))
		cancel()
		switch {
		case err != nil && errors.Is(err, context.DeadlineExceeded) && last != "no look yet":
			// the look the deadline cut short: keep the one before it
		case err != nil:
			last = "error: " + err.Error()
		case !got.Found:
			last = "no element matches"
		case match(got.Text):
			return got.Text
		default:
			last = strconv.Quote(got.Text)
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.t.Fatalf("browser: text of %s did not match in %v; last: %s", sel, StepTimeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitTextContains waits until the rendered text of the first element
// matching sel contains want, and returns that text (see [Browser.WaitText]).
func (b *Browser) WaitTextContains(sel, want string) string {
	b.t.Helper()
	return b.WaitText(sel, func(text string) bool { return strings.Contains(text, want) })
}

// syncBuffer is a bytes.Buffer that chromium's output goroutine and the test
// can share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

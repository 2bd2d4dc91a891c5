// Command load drives GET requests at one URL over keep-alive connections
// for a fixed time and prints the throughput the way wrk does
// ("Requests/sec: N"). scripts/load.sh uses it (LOADGEN=wrk for wrk).
//
//	go run ./cmd/load -url http://127.0.0.1:8080/auth -H "Authorization: JWT token=..." -d 10s -c 32
//
// Only responses of the expected status, completed within the duration,
// count; any other status, or an error, makes it exit non-zero after
// printing the counts.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "", "the `URL` to GET")
	header := flag.String("H", "", "one request `header`, as \"Name: value\"")
	duration := flag.Duration("d", 10*time.Second, "how long to drive the load")
	conns := flag.Int("c", 32, "concurrent connections")
	status := flag.Int("status", http.StatusOK, "the status every response must have")
	flag.Parse()
	if *url == "" || *conns < 1 {
		flag.Usage()
		os.Exit(2)
	}
	req, err := http.NewRequest(http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	if *header != "" {
		name, value, ok := strings.Cut(*header, ":")
		if !ok {
			fmt.Fprintln(os.Stderr, "load: -H must be \"Name: value\"")
			os.Exit(2)
		}
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns:        *conns,
		MaxIdleConnsPerHost: *conns,
		MaxConnsPerHost:     *conns,
		DisableCompression:  true,
	}}
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var ok, bad, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range *conns {
		wg.Go(func() {
			r := req.WithContext(ctx)
			for ctx.Err() == nil {
				resp, err := client.Do(r)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case ctx.Err() != nil:
					// finished after the deadline: not counted
				case resp.StatusCode == *status:
					ok.Add(1)
				default:
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := min(time.Since(start), *duration)
	fmt.Printf("%d requests in %s, %d connections, %d of another status, %d errors\n",
		ok.Load(), elapsed.Round(time.Millisecond), *conns, bad.Load(), failed.Load())
	fmt.Printf("Requests/sec: %.2f\n", float64(ok.Load())/elapsed.Seconds())
	if bad.Load() > 0 || failed.Load() > 0 {
		os.Exit(1)
	}
}

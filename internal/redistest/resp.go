package redistest

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// CommandTimeout bounds each command of a [Conn], from the write of the
// request to the read of the whole reply.
const CommandTimeout = 5 * time.Second

// Kind is the type of a [Reply]: one of RESP2's five, with the null bulk
// string and null array as Null.
type Kind byte

// The kinds of reply.
const (
	SimpleString Kind = '+'
	ErrorString  Kind = '-'
	Integer      Kind = ':'
	BulkString   Kind = '$'
	Array        Kind = '*'
	Null         Kind = '_'
)

// Reply is one RESP2 reply: Str holds a simple, error or bulk string, Int an
// integer, Elems an array's elements.
type Reply struct {
	Kind  Kind
	Str   string
	Int   int64
	Elems []Reply
}

// String renders the reply for test messages: strings quoted, errors as
// (error) ..., arrays in brackets.
func (r Reply) String() string {
	switch r.Kind {
	case SimpleString, BulkString:
		return strconv.Quote(r.Str)
	case ErrorString:
		return "(error) " + r.Str
	case Integer:
		return strconv.FormatInt(r.Int, 10)
	case Null:
		return "(nil)"
	case Array:
		parts := make([]string, len(r.Elems))
		for i, e := range r.Elems {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprintf("(kind %q)", byte(r.Kind))
}

// ErrorReply is an error reply of the server (-ERR ..., -NOAUTH ...,
// -WRONGPASS ...), as the error of [Conn.Do].
type ErrorReply string

func (e ErrorReply) Error() string { return "redis: " + string(e) }

// Prefix is the error's first word, its code: "ERR", "NOAUTH", "WRONGPASS".
func (e ErrorReply) Prefix() string {
	code, _, _ := strings.Cut(string(e), " ")
	return code
}

// Conn is a bare RESP2 connection to a redis-server, for tests that look at
// the server independently of the client under test (a key's TTL, the keys
// there are) and for the harness's own readiness check. It is not safe for
// concurrent use.
type Conn struct {
	nc net.Conn
	r  *bufio.Reader
}

// dial connects to addr, over TLS when cfg is not nil, within timeout.
func dial(addr string, cfg *tls.Config, timeout time.Duration) (*Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	var nc net.Conn
	var err error
	if cfg != nil {
		nc, err = (&tls.Dialer{NetDialer: d, Config: cfg}).Dial("tcp", addr)
	} else {
		nc, err = d.Dial("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	return &Conn{nc: nc, r: bufio.NewReader(nc)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Do sends one command and reads its reply. An error reply of the server is
// returned as the reply and as an [ErrorReply]; any other error is the
// connection's (the connection is then unusable).
func (c *Conn) Do(args ...string) (Reply, error) {
	if len(args) == 0 {
		return Reply{}, errors.New("redistest: Do without a command")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := c.nc.SetDeadline(time.Now().Add(CommandTimeout)); err != nil {
		return Reply{}, err
	}
	if _, err := io.WriteString(c.nc, b.String()); err != nil {
		return Reply{}, err
	}
	r, err := readReply(c.r, 0)
	if err != nil {
		return Reply{}, fmt.Errorf("redistest: reading the reply to %s: %w", args[0], err)
	}
	if r.Kind == ErrorString {
		return r, ErrorReply(r.Str)
	}
	return r, nil
}

// maxDepth bounds the nesting of arrays in a reply.
const maxDepth = 16

func readReply(r *bufio.Reader, depth int) (Reply, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return Reply{}, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return Reply{}, fmt.Errorf("malformed reply line %q", line)
	}
	kind, body := Kind(line[0]), line[1:len(line)-2]
	switch kind {
	case SimpleString, ErrorString:
		return Reply{Kind: kind, Str: body}, nil
	case Integer:
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return Reply{}, fmt.Errorf("malformed integer %q", body)
		}
		return Reply{Kind: Integer, Int: n}, nil
	case BulkString:
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 512<<20 {
			return Reply{}, fmt.Errorf("malformed bulk length %q", body)
		}
		if n == -1 {
			return Reply{Kind: Null}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Reply{}, err
		}
		if string(buf[n:]) != "\r\n" {
			return Reply{}, errors.New("bulk string not ended by CRLF")
		}
		return Reply{Kind: BulkString, Str: string(buf[:n])}, nil
	case Array:
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 1<<20 {
			return Reply{}, fmt.Errorf("malformed array length %q", body)
		}
		if n == -1 {
			return Reply{Kind: Null}, nil
		}
		if depth >= maxDepth {
			return Reply{}, errors.New("reply nested too deep")
		}
		elems := make([]Reply, n)
		for i := range elems {
			if elems[i], err = readReply(r, depth+1); err != nil {
				return Reply{}, err
			}
		}
		return Reply{Kind: Array, Elems: elems}, nil
	}
	return Reply{}, fmt.Errorf("unknown reply type %q", line[0])
}

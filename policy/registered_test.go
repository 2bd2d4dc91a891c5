package policy

import (
	"errors"
	"fmt"
	"testing"

	"github.com/pyramid-go/jwtauth/internal/strictjson"
)

// registeredSeeds are payloads for the differential of decodeRegistered
// and decodeClaims.
var registeredSeeds = []string{
	`{"sub":"alice","iss":"i","aud":"api","exp":1e3,"nbf":1,"iat":2.5,"jti":"j"}`,
	`{"sub":"alice","aud":["api","x"],"groups":[{"n":"a"}],"cnf":{"jkt":"k"}}`,
	`{"sub":"alice","aud":["api",1],"exp":"1"}`,
	`{"sub":1,"aud":null,"exp":1e400,"nbf":null,"iat":true}`,
	`{"s\u0075b":"alice","\u0061ud":[]}`,
	`{"sub":"alice","groups":[{"n":"a","n":"b"}]}`,
	`{"sub":"alice","sub":"admin"}`,
	`{"sub":"alice","s\u0075b":"admin"}`,
	"{\"sub\":\"al\xffice\"}",
	`{"sub":"\ud800"}`,
	`{"sub":"alice"} {}`,
	`[]`, `"x"`, ``, `{`, `{"sub"}`, ` {"Sub":"x","scope":"a b","scp":["c"],"client_id":"c"} `,
	`{"exp":-1e308,"iat":0.000001,"nbf":123456789012345678901234567890}`,
	// Names match exactly, never case-insensitively (as encoding/json
	// v1 matches a struct's fields): none of these is a registered claim.
	`{"EXP":1,"ISS":"x","AUD":"y","JTI":"j","NBF":"z","IAT":"q","SUB":"s"}`,
	`{"sub":"alice","Exp":"1","Iss":1,"Aud":[1],"Jti":2,"Nbf":"x","Iat":"y","Sub":"admin"}`,
	`{"sub":"alice","CNF":{"jkt":"k"},"SCOPE":"a b","Scp":["c"],"CLIENT_ID":1,"Client_Id":"c"}`,
	`{"exp":1,"EXP":"x","aud":"api","AUD":1,"iss":"i","ISS":1}`,
}

// checkRegistered holds decodeRegistered to what the map of decodeClaims
// says, under the given configuration.
func checkRegistered(t *testing.T, v *Verifier, payload string) {
	var r registered
	err := v.decodeRegistered([]byte(payload), &r)
	m, mapErr := decodeClaims([]byte(payload))
	if (err == nil) != (mapErr == nil) {
		t.Fatalf("%q: decodeRegistered %v, decodeClaims %v", payload, err, mapErr)
	}
	if err != nil {
		// The same refusal; the tokenizer's wording of a syntax error
		// may differ with the way the value was read (skipped or not).
		if errors.Is(err, strictjson.ErrNotObject) != errors.Is(mapErr, strictjson.ErrNotObject) {
			t.Errorf("%q: errors %q and %q", payload, err, mapErr)
		}
		return
	}
	uid, ok := m.String(v.cfg.UserIDClaim)
	_, present := m[v.cfg.UserIDClaim]
	if r.userID != uid || r.hasUserID != ok || r.hasUserIDClaim != present {
		t.Errorf("%q: userid %q %v %v, want %q %v %v", payload, r.userID, r.hasUserID, r.hasUserIDClaim, uid, ok, present)
	}
	iss, _ := m.String("iss")
	jti, _ := m.String("jti")
	if r.iss != iss || r.jti != jti {
		t.Errorf("%q: iss %q jti %q", payload, r.iss, r.jti)
	}
	_, hasAud := m["aud"]
	aud, audOK := m.Strings("aud")
	if r.hasAud != hasAud || r.audOK != audOK {
		t.Errorf("%q: aud %v %v, want %v %v", payload, r.hasAud, r.audOK, hasAud, audOK)
	}
	if audOK {
		for _, a := range aud {
			if !r.audience([]string{a}) {
				t.Errorf("%q: aud lacks %q", payload, a)
			}
		}
		if r.audience([]string{"not-an-audience"}) {
			t.Errorf("%q: aud has too much", payload)
		}
	}
	times, timesErr := readTimes(m)
	gotErr := r.timesErr()
	if fmt.Sprint(gotErr) != fmt.Sprint(timesErr) || timesErr == nil && r.times != times {
		t.Errorf("%q: times %+v %v, want %+v %v", payload, r.times, gotErr, times, timesErr)
	}
	for name, val := range r.other {
		if fmt.Sprint(m[name]) != fmt.Sprint(val) {
			t.Errorf("%q: other %q = %v, want %v", payload, name, val, m[name])
		}
	}
	for _, name := range []string{"cnf", "scope", "scp", "client_id"} {
		if _, in := m[name]; in && v.roles([]byte(name))&roleOther != 0 {
			if _, got := r.other[name]; !got {
				t.Errorf("%q: other lacks %q", payload, name)
			}
		}
	}
}

func registeredVerifiers() []*Verifier {
	var vs []*Verifier
	for _, cfg := range []Config{
		{UserIDClaim: "sub"},
		{UserIDClaim: "aud"},
		{UserIDClaim: "exp", ScopePrincipals: true},
		{UserIDClaim: "cnf", Profile: ProfileRFC9068},
		{UserIDClaim: "scope", ScopePrincipals: true, Profile: ProfileRFC9068},
	} {
		vs = append(vs, &Verifier{cfg: cfg})
	}
	return vs
}

func TestDecodeRegistered(t *testing.T) {
	for _, v := range registeredVerifiers() {
		for _, p := range registeredSeeds {
			checkRegistered(t, v, p)
		}
	}
}

func FuzzDecodeRegistered(f *testing.F) {
	for _, p := range registeredSeeds {
		f.Add(p)
	}
	vs := registeredVerifiers()
	f.Fuzz(func(t *testing.T, payload string) {
		for _, v := range vs {
			checkRegistered(t, v, payload)
		}
	})
}

package server

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// fastDecodes checks one body against encoding/json: a body decodeFast
// takes must decode the same with json.Unmarshal, and one it leaves must
// leave the request zero. It reports whether decodeFast took it.
func fastDecodes(t *testing.T, body string) bool {
	t.Helper()
	var fast processRequest
	took := fast.decodeFast([]byte(body))
	if !took {
		if !reflect.DeepEqual(fast, processRequest{}) {
			t.Fatalf("%q: left to encoding/json but not zero: %+v", body, fast)
		}
		return false
	}
	var want processRequest
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		t.Fatalf("%q: taken by decodeFast, refused by encoding/json: %v", body, err)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("%q:\n decodeFast   %+v\n encoding/json %+v", body, fast, want)
	}
	return true
}

func TestProcessRequestDecodeFastTakesPlainBodies(t *testing.T) {
	for _, body := range []string{
		`{"command":"true","waitForCompletion":true}`,
		`{}`,
		" \t\r\n{ \"command\" : \"ls -la\" , \"name\":\"n1\" } \n",
		`{"command":"npm run dev","name":"dev","workingDir":"/app","env":{"PORT":"3000","A":""},"waitForPorts":[3000, 8080],"timeout":30,"keepAlive":false,"restartOnFailure":true,"maxRestarts":-1,"stdin":true,"waitForCompletion":false}`,
		"{\"command\":\"echo héllo ✓ \u2028\"}", // U+2028 itself, not its escape
		`{"command":"x","env":{}}`,
		`{"command":"x","env":{"K":"1","K":"2"}}`, // the last value, as encoding/json keeps it
		`{"command":"x","waitForPorts":[]}`,
		`{"command":"x","timeout":-0}`,
		`{"command":"x","timeout":0,"maxRestarts":123456789012345678}`,
		`{"command":"x","timeout":-7}`,
		`{"command":""}`,
		"{\"command\":\"tab\x7f\"}",
	} {
		if !fastDecodes(t, body) {
			t.Errorf("%q: left to encoding/json, want it taken", body)
		}
	}
}

func TestProcessRequestDecodeFastLeavesTheRest(t *testing.T) {
	for _, body := range []string{
		``, ` `, `null`, `[]`, `"x"`, `{`, `}`,
		`{"command":"a\"b"}`,     // an escape
		`{"command":"a\nb"}`,     // an escape
		"{\"command\":\"a\nb\"}", // a control character, which encoding/json refuses
		`{"command":null}`,
		`{"Command":"x"}`, // another case: encoding/json matches it, decodeFast does not try
		`{"command":"x","command":"y"}`,
		`{"command":"x","unknown":1}`,
		`{"command":"x","timeout":1.5}`,
		`{"command":"x","timeout":1e3}`,
		`{"command":"x","timeout":01}`,
		`{"command":"x","timeout":1234567890123456789}`,
		`{"command":"x","timeout":-}`,
		`{"command":"x","timeout":"5"}`,
		"{\"command\":\"\xff\"}", // invalid UTF-8, which encoding/json replaces
		`{"command":"x"} {}`,
		`{"command":"x"}x`,
		`{"command":"x",}`,
		`{"command" "x"}`,
		`{"command":"x"`,
		`{"command":"x","env":{"A":1}}`,
		`{"command":"x","env":null}`,
		`{"command":"x","waitForPorts":[1,]}`,
		`{"command":"x","waitForPorts":[1 2]}`,
		`{"command":"x","waitForCompletion":tru}`,
		`{"command":"x","waitForCompletion":truex}`,
		`{"command":"x","waitForCompletion":1}`,
	} {
		if fastDecodes(t, body) {
			t.Errorf("%q: taken by decodeFast, want it left to encoding/json", body)
		}
	}
}

// TestProcessRequestDecodeFastMatchesEncodingJSON decodes many generated
// bodies, near the plain shape and off it, both ways.
func TestProcessRequestDecodeFastMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewSource(15))
	strs := []string{`""`, `"x"`, `"a b/c"`, `"é✓"`, `"\u00e9"`, `"a\"b"`, "\"\xc3\"", `null`, `1`, `true`}
	ints := []string{`0`, `-0`, `7`, `-12`, `123456789012345678`, `1234567890123456789`, `1.0`, `2e1`, `01`, `"3"`, `null`, `-`}
	bools := []string{`true`, `false`, `null`, `0`, `"true"`}
	envs := []string{`{}`, `{"A":"1"}`, `{"A":"1","B":"2"}`, `{"A":"1","A":"2"}`, `{"A":1}`, `null`, `[]`, `{"A":"\n"}`}
	ports := []string{`[]`, `[3000]`, `[1,2,3]`, `[1.5]`, `null`, `[1,]`, `{}`}
	fields := []struct {
		key    string
		values []string
	}{
		{"command", strs}, {"name", strs}, {"workingDir", strs}, {"env", envs},
		{"waitForCompletion", bools}, {"timeout", ints}, {"waitForPorts", ports},
		{"restartOnFailure", bools}, {"maxRestarts", ints}, {"keepAlive", bools},
		{"stdin", bools}, {"Command", strs}, {"other", strs},
	}
	spaces := []string{"", "", " ", "\n\t"}
	taken := 0
	for range 20000 {
		var b strings.Builder
		b.WriteString(spaces[rng.Intn(len(spaces))] + "{")
		for i, n := 0, rng.Intn(5); i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			f := fields[rng.Intn(len(fields))]
			sp := spaces[rng.Intn(len(spaces))]
			fmt.Fprintf(&b, "%s%q%s:%s%s", sp, f.key, sp, sp, f.values[rng.Intn(len(f.values))])
		}
		b.WriteString("}" + spaces[rng.Intn(len(spaces))])
		body := b.String()
		if rng.Intn(10) == 0 { // now and then, a byte cut or changed
			i := rng.Intn(len(body))
			if rng.Intn(2) == 0 {
				body = body[:i]
			} else {
				body = body[:i] + string("{}[],:\" x1"[rng.Intn(10)]) + body[i+1:]
			}
		}
		if fastDecodes(t, body) {
			taken++
		}
	}
	if taken < 1000 {
		t.Errorf("decodeFast took %d of 20000 generated bodies; the test no longer covers it", taken)
	}
}

// FuzzProcessRequestDecodeFast: whatever the body, decodeFast either
// leaves it or decodes it as encoding/json does.
func FuzzProcessRequestDecodeFast(f *testing.F) {
	for _, seed := range []string{
		`{"command":"true","waitForCompletion":true}`,
		`{"command":"x","env":{"A":"1"},"waitForPorts":[1,2],"timeout":3}`,
		`{"command":"x","timeout":1.5}`,
		"{\"command\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fastDecodes(t, string(data))
	})
}

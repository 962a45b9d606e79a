package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// topLevelKeys lists the keys of a JSON object in the order they are written.
func topLevelKeys(t *testing.T, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s is not an object: %v", data, err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// The health fields come in the existing daemon's order (OBSERVED.md).
func TestHealthFieldOrder(t *testing.T) {
	s := newTestServer(t, Options{}, nil)
	rec := s.do(httptest.NewRequest(http.MethodGet, "/health", nil))
	want := "status,version,gitCommit,buildTime,goVersion,os,arch,uptime,uptimeSeconds,upgradeCount,startedAt,lastUpgrade"
	if got := strings.Join(topLevelKeys(t, rec.Body.Bytes()), ","); got != want {
		t.Errorf("health keys\n got %s\nwant %s", got, want)
	}
}

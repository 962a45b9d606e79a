package handover

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReadState(t *testing.T) {
	type state struct {
		Version int    `json:"version"`
		Name    string `json:"name"`
	}
	tests := []struct {
		name    string
		raw     string
		want    state
		wantErr string
	}{
		{name: "the version read", raw: `{"version":2,"name":"a"}`, want: state{Version: 2, Name: "a"}},
		{name: "another version refused", raw: `{"version":1,"name":"a"}`, wantErr: "state version 1, this build reads 2"},
		{name: "no version refused", raw: `{"name":"a"}`, wantErr: "state version 0"},
		{name: "not JSON", raw: `{`, wantErr: "read the state"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got state
			err := Frozen{State: json.RawMessage(tc.raw)}.ReadState(&got, 2)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

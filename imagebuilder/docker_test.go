package imagebuilder

import (
	"reflect"
	"testing"
)

func TestBuildArgs(t *testing.T) {
	tests := []struct {
		name string
		o    BuildOptions
		want []string
	}{
		{"minimal", BuildOptions{}, []string{"build", "--iidfile", "/t/iid", "/t/ctx"}},
		{"all", BuildOptions{Tag: "me/img:1", MemoryMB: 2048, NoCache: true,
			BuildArgs: map[string]string{"B": "2", "A": "1 x"}},
			[]string{"build", "--iidfile", "/t/iid", "--tag", "me/img:1", "--memory", "2048m",
				"--build-arg", "A=1 x", "--build-arg", "B=2", "--no-cache", "/t/ctx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildArgs(tt.o, "/t/ctx", "/t/iid"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestRunArgs(t *testing.T) {
	tests := []struct {
		name   string
		o      RunOptions
		remote bool
		want   []string
	}{
		{"local", RunOptions{Image: "sha256:abc"}, false,
			[]string{"run", "-d", "--rm", "-p", "127.0.0.1::8080", "sha256:abc"}},
		{"remote named", RunOptions{Image: "img", Name: "sb", MemoryMB: 512}, true,
			[]string{"run", "-d", "--rm", "-p", "8080", "--name", "sb", "--memory", "512m", "img"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runArgs(tt.o, tt.remote); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestEngineHost(t *testing.T) {
	tests := []struct {
		in, host string
		remote   bool
	}{
		{"", "127.0.0.1", false},
		{"unix:///var/run/docker.sock", "127.0.0.1", false},
		{"tcp://10.0.0.5:2375", "10.0.0.5", true},
	}
	for _, tt := range tests {
		if h, r := engineHost(tt.in); h != tt.host || r != tt.remote {
			t.Errorf("engineHost(%q) = %q, %v", tt.in, h, r)
		}
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1:49153\n", "49153"},
		{"0.0.0.0:32768\n[::]:32768\n", "32768"},
	}
	for _, tt := range tests {
		if got, err := parsePort(tt.in); err != nil || got != tt.want {
			t.Errorf("parsePort(%q) = %q, %v", tt.in, got, err)
		}
	}
	if _, err := parsePort("garbage"); err == nil {
		t.Error("parsePort accepted garbage")
	}
}

func TestLookupEnv(t *testing.T) {
	env := []string{"A=1", "DOCKER_HOST=unix:///a", "DOCKER_HOST=tcp://h:2375", "B"}
	if got := lookupEnv(env, "DOCKER_HOST"); got != "tcp://h:2375" {
		t.Errorf("lookupEnv = %q, want the last value", got)
	}
	if got := lookupEnv(env, "B"); got != "" {
		t.Errorf("lookupEnv(B) = %q, want empty", got)
	}
}

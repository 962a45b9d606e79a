package process

import "strings"

// dedupEnv is env with each variable once, at its last value (as a shell,
// or os/exec, would see it), kept where its last value stands. An entry
// without "=" is kept as it is.
func dedupEnv(env []string) []string {
	last := make(map[string]int, len(env))
	for i, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); ok {
			last[k] = i
		}
	}
	out := make([]string, 0, len(last))
	for i, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); !ok || last[k] == i {
			out = append(out, kv)
		}
	}
	return out
}

// withEnv is base (without duplicates) with the variables of extra added,
// replacing those of the same name. base itself is never changed: it is
// returned clipped when extra is empty, so that no caller appends into it.
func withEnv(base []string, extra map[string]string) []string {
	if len(extra) == 0 {
		return base[:len(base):len(base)]
	}
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		if k, _, ok := strings.Cut(kv, "="); ok {
			if _, replaced := extra[k]; replaced {
				continue
			}
		}
		out = append(out, kv)
	}
	for k, v := range extra {
		out = append(out, k+"="+v)
	}
	return out
}

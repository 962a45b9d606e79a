package webui

import (
	"bytes"
	"testing"
)

func TestPageMatchesBundle(t *testing.T) {
	page := Page()
	if Bundled() {
		for _, name := range Required {
			if !bytes.Contains(page, []byte("terminal/assets/"+name)) {
				t.Errorf("page does not load %s", name)
			}
		}
		return
	}
	if !bytes.Contains(page, []byte("go generate ./terminal/webui")) {
		t.Error("unbundled page does not say how to bundle")
	}
}

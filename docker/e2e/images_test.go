//go:build e2eimage

package e2e

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tags of the images the test builds; all live in the private engine only.
const publishedTag = "sbx-e2e/sandbox-api:test"

func exampleTag(name string) string { return "sbx-e2e/" + name + ":test" }

// buildPublished builds the binary with `make build` and the published
// image from the root Dockerfile with the repository as context, as
// `make image` does. It returns the sizes of both.
func buildPublished(t *testing.T, d *dockerCLI, root string) (binSize, imageSize int64) {
	t.Helper()
	if _, err := runCmd(10*time.Minute, nil, nil, "make", "-C", root, "build", "bin/ca-certificates.crt"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(root, "bin", "sandbox-api"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.run(10*time.Minute, "build", "-t", publishedTag, "-f", filepath.Join(root, "Dockerfile"), root); err != nil {
		t.Fatal(err)
	}
	imageSize, err = strconv.ParseInt(d.must(t, "image", "inspect", "-f", "{{.Size}}", publishedTag), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size(), imageSize
}

// checkPublishedContent: the image holds /sandbox-api and the CA roots
// (for an upgrade over HTTPS) and nothing else (a COPY --from source must
// not drag anything along), runs it as its entrypoint and exposes 8080.
func checkPublishedContent(t *testing.T, d *dockerCLI) {
	t.Helper()
	var cfg struct {
		Entrypoint   []string
		ExposedPorts map[string]any
	}
	if err := json.Unmarshal([]byte(d.must(t, "image", "inspect", "-f", "{{json .Config}}", publishedTag)), &cfg); err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Entrypoint, " ") != "/sandbox-api" {
		t.Errorf("entrypoint %q, want [/sandbox-api]", cfg.Entrypoint)
	}
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("8080/tcp not exposed: %v", cfg.ExposedPorts)
	}
	files := imageFiles(t, d, publishedTag)
	if strings.Join(files, " ") != "etc/ssl/certs/ca-certificates.crt sandbox-api" {
		t.Errorf("the published image holds %v, want only sandbox-api and the CA bundle", files)
	}
}

// imageFiles lists the regular files of every layer of an image, read from
// `docker save`.
func imageFiles(t *testing.T, d *dockerCLI, image string) []string {
	t.Helper()
	out, err := d.run(5*time.Minute, "save", image)
	if err != nil {
		t.Fatal(err)
	}
	outer := tar.NewReader(strings.NewReader(out))
	var files []string
	for {
		h, err := outer.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(h.Name, "layer.tar") && !strings.HasPrefix(h.Name, "blobs/") {
			continue
		}
		inner := tar.NewReader(outer)
		for {
			ih, err := inner.Next()
			if err != nil {
				break // end of this layer, or a blob that is no layer
			}
			if ih.Typeflag == tar.TypeReg {
				files = append(files, strings.TrimPrefix(ih.Name, "./"))
			}
		}
	}
	sort.Strings(files)
	return files
}

// buildArgs give the local base and published images, and no packages:
// the local bases hold them already, and nothing inside a build reaches a
// network.
func buildArgs(base string) []string {
	return []string{
		"--build-arg", "BASE=" + base,
		"--build-arg", "PACKAGES=",
		"--build-arg", "SANDBOX_IMAGE=" + publishedTag,
	}
}

// buildExample builds docker/<name> the way a user of the template does:
// the folder copied elsewhere, then its own `make build`, which copies
// entrypoint.sh next to the Dockerfile and builds with the folder as
// context. It proves the folder is a self-contained template.
func buildExample(t *testing.T, d *dockerCLI, root, name, base, tag string) time.Duration {
	t.Helper()
	ctx := t.TempDir()
	if err := copyDir(filepath.Join(root, "docker", name), ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := runCmd(10*time.Minute, d.env, nil, "make", "-C", ctx, "build",
		"IMAGE="+tag,
		"BUILD_ARGS="+strings.Join(buildArgs(base), " "),
		"ENTRYPOINT_SH="+filepath.Join(root, "entrypoint", "entrypoint.sh"),
	); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

// buildTestImage builds one of testdata/'s Dockerfiles with docker build.
func buildTestImage(t *testing.T, d *dockerCLI, dir, base, tag string) {
	t.Helper()
	args := append(append([]string{"build"}, buildArgs(base)...), "-t", tag, dir)
	if _, err := d.run(10*time.Minute, args...); err != nil {
		t.Fatal(err)
	}
}

// checkExampleConfig: the example runs /entrypoint.sh and exposes 8080 and
// every port its blaxel.toml declares (what `make run-image` publishes).
func checkExampleConfig(t *testing.T, d *dockerCLI, tag, blaxelToml string) []int {
	t.Helper()
	var cfg struct {
		Entrypoint   []string
		ExposedPorts map[string]any
	}
	if err := json.Unmarshal([]byte(d.must(t, "image", "inspect", "-f", "{{json .Config}}", tag)), &cfg); err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Entrypoint, " ") != "/entrypoint.sh" {
		t.Errorf("%s: entrypoint %q, want [/entrypoint.sh]", tag, cfg.Entrypoint)
	}
	ports, err := blaxelPorts(blaxelToml)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append([]int{8080}, ports...) {
		if _, ok := cfg.ExposedPorts[fmt.Sprintf("%d/tcp", p)]; !ok {
			t.Errorf("%s does not expose %d/tcp (blaxel.toml declares it): %v", tag, p, cfg.ExposedPorts)
		}
	}
	return ports
}

var targetRe = regexp.MustCompile(`(?m)^\s*target\s*=\s*(\d+)`)

// blaxelPorts reads the `target` of each [[runtime.ports]] of a blaxel.toml.
func blaxelPorts(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, m := range targetRe.FindAllStringSubmatch(string(b), -1) {
		p, _ := strconv.Atoi(m[1])
		ports = append(ports, p)
	}
	return ports, nil
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(p, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	_ = os.Remove(dst) // WriteFile keeps the mode of a file already there
	return os.WriteFile(dst, b, st.Mode().Perm())
}

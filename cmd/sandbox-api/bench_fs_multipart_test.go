package main

// Benchmark of a large upload through /filesystem-multipart the SDK's way,
// beside the physical floor of the same bytes measured in the same run.

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// BenchmarkMultipartUploadSDK: 256 MiB sent as uploadWithMultipart of
// @blaxel/core 0.3.21 sends a file over 5 MiB (writeBinary, or write of a
// large string): initiate with permissions 0644, 5 MiB parts as a "file"
// form field with a Content-Length, three workers each taking the next
// part number as soon as its previous part is answered, then complete with
// the answers sorted by part number. Against uploadFloor of the same
// bytes: complete answers only once the file is fsynced. The forms are
// built once, outside the timing. The figure is ratio-to-floor (median of
// the rounds). With BENCH_BEFORE_BIN, that build is timed in the same rounds
// (before-ratio-to-floor). md5-1core-MiB/s is what one core hashes: each
// part's etag is its MD5.
func BenchmarkMultipartUploadSDK(b *testing.B) {
	const (
		total    = 256 << 20
		partSize = 5 << 20 // the SDK's CHUNK_SIZE
		workers  = 3       // its MAX_PARALLEL_UPLOADS
	)
	data := make([]byte, total)
	_, _ = rand.Read(data)
	numParts := (total + partSize - 1) / partSize
	forms := make([][]byte, numParts)
	contentTypes := make([]string, numParts)
	for i := range forms {
		forms[i], contentTypes[i] = mpForm(b, data[i*partSize:min((i+1)*partSize, total)])
	}
	// Each part's etag is its MD5: what one core hashes bounds one part.
	start := time.Now()
	_ = md5.Sum(data)
	md5Rate := float64(total) / (1 << 20) / time.Since(start).Seconds()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: hangGuard}

	// side starts a daemon from bin and returns its upload, and where that
	// lands.
	side := func(bin string) (uploadSide, string) {
		dir := filepath.Join(b.TempDir(), "uploads")
		d := mpDaemon{daemon: startDaemon(b, daemonOptions{bin: bin, args: []string{"--upload-dir", dir}}), uploadDir: dir}
		dest := filepath.Join(d.workDir, "uploaded.bin")
		upload := func() {
			id, _ := d.initiate(filesEnc("", dest), map[string]string{"permissions": "0644"})
			var (
				mu    sync.Mutex
				next  = 1
				parts []mpPart
				wg    sync.WaitGroup
				errs  = make(chan error, workers)
			)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						mu.Lock()
						n := next
						next++
						mu.Unlock()
						if n > numParts {
							return
						}
						p, err := mpSendPart(client, d.url, id, n, forms[n-1], contentTypes[n-1])
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						parts = append(parts, p)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			slices.SortFunc(parts, func(a, b mpPart) int { return a.PartNumber - b.PartNumber })
			d.complete(id, parts...)
		}
		return uploadSide{pid: d.pid, upload: upload}, dest
	}
	runUploadRounds(b, data, side)
	b.ReportMetric(md5Rate, "md5-1core-MiB/s")
}

// mpSendPart PUTs one part's form and decodes the answer.
func mpSendPart(client *http.Client, base, id string, n int, form []byte, contentType string) (mpPart, error) {
	var p mpPart
	req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/filesystem-multipart/%s/part?partNumber=%d", base, id, n), bytes.NewReader(form))
	if err != nil {
		return p, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return p, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &p) != nil {
		return p, fmt.Errorf("part %d: %d %s", n, resp.StatusCode, testsupport.Truncate(body))
	}
	return p, nil
}

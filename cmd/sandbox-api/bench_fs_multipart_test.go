package main

// Benchmark of a large upload through /filesystem-multipart, beside a raw
// file copy on the same disk measured in the same run.

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// BenchmarkMultipartUpload: 256 MiB sent the SDK's way (5 MiB form parts,
// three in flight, then complete) against copying a 256 MiB file to a new
// file on the same disk (1 MiB reads and writes, then fsync, as complete
// syncs its result). The MD5 rate of one core is reported too: each part's
// etag is its MD5. ns/op and MB/s cover the upload only.
func BenchmarkMultipartUpload(b *testing.B) {
	const (
		total    = 256 << 20
		partSize = 5 << 20
		inFlight = 3
	)
	d := mpStartDaemon(b)
	data := make([]byte, total)
	_, _ = rand.Read(data)
	// Form bodies built once, outside the timing: the client's cost is not
	// the daemon's.
	numParts := (total + partSize - 1) / partSize
	forms := make([][]byte, numParts)
	contentTypes := make([]string, numParts) // each with its own boundary
	for i := range forms {
		forms[i], contentTypes[i] = mpForm(b, data[i*partSize:min((i+1)*partSize, total)])
	}
	src := filepath.Join(d.workDir, "raw-source.bin")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		b.Fatal(err)
	}
	// The etag is the MD5 of each part: hashing on one core bounds how fast
	// one part can go, whatever the disk.
	start := time.Now()
	_ = md5.Sum(data)
	md5Time := time.Since(start)
	data = nil
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inFlight}, Timeout: hangGuard}

	upload := func(dest string) {
		id, _ := d.initiate(dest, nil)
		parts := make([]mpPart, numParts)
		errs := make(chan error, numParts)
		sem := make(chan struct{}, inFlight)
		var wg sync.WaitGroup
		for i := range forms {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				req, err := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/filesystem-multipart/%s/part?partNumber=%d", d.url, id, i+1), bytes.NewReader(forms[i]))
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Content-Type", contentTypes[i])
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &parts[i]) != nil {
					errs <- fmt.Errorf("part %d: %d %s", i+1, resp.StatusCode, testsupport.Truncate(body))
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		d.complete(id, parts...)
	}

	var uploadTime, rawTime time.Duration
	var maxGrowth int64
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dest := filepath.Join(d.workDir, "raw-copy.bin")
		start = time.Now()
		if err := mpRawCopySync(src, dest); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start)
		_ = os.Remove(dest)

		dest = filepath.Join(d.workDir, "uploaded.bin")
		base, err := rssBytes(d.pid)
		if err != nil {
			b.Fatal(err)
		}
		sampler := sampleRSS(d.pid, 10*time.Millisecond)
		b.StartTimer()

		start = time.Now()
		upload(dest)
		uploadTime += time.Since(start)

		b.StopTimer()
		maxGrowth = max(maxGrowth, sampler.stop()-base)
		if info, err := os.Stat(dest); err != nil || info.Size() != total {
			b.Fatalf("uploaded file: %v, %v", info, err)
		}
		_ = os.Remove(dest)
		b.StartTimer()
	}
	b.StopTimer()
	mbps := func(t time.Duration) float64 { return float64(total) * float64(b.N) / (1 << 20) / t.Seconds() }
	b.ReportMetric(mbps(uploadTime), "upload-MiB/s")
	b.ReportMetric(mbps(rawTime), "raw-copy-MiB/s")
	b.ReportMetric(mbps(uploadTime)/mbps(rawTime), "upload/raw")
	b.ReportMetric(float64(total)/(1<<20)/md5Time.Seconds(), "md5-1core-MiB/s")
	b.ReportMetric(float64(maxGrowth)/(1<<20), "rss-growth-MiB")
}

// mpRawCopySync copies src to a new file dst through a 1 MiB buffer in user
// space (no copy_file_range shortcut) and syncs it.
func mpRawCopySync(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	buf := make([]byte, 1<<20)
	for {
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	return out.Sync()
}

// BenchmarkMultipartUploadSDK: 256 MiB sent as uploadWithMultipart of
// @blaxel/core 0.3.21 sends a file over 5 MiB (writeBinary, or write of a
// large string): initiate with permissions 0644, 5 MiB parts as a "file"
// form field with a Content-Length, three workers each taking the next
// part number as soon as its previous part is answered, then complete with
// the answers sorted by part number. Against uploadFloor of the same
// bytes: complete answers only once the file is fsynced. The forms are
// built once, outside the timing. The figure is ratio-to-floor (median of
// the rounds).
func BenchmarkMultipartUploadSDK(b *testing.B) {
	const (
		total    = 256 << 20
		partSize = 5 << 20 // the SDK's CHUNK_SIZE
		workers  = 3       // its MAX_PARALLEL_UPLOADS
	)
	d := mpStartDaemon(b)
	data := make([]byte, total)
	_, _ = rand.Read(data)
	numParts := (total + partSize - 1) / partSize
	forms := make([][]byte, numParts)
	contentTypes := make([]string, numParts)
	for i := range forms {
		forms[i], contentTypes[i] = mpForm(b, data[i*partSize:min((i+1)*partSize, total)])
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: hangGuard}
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
	floorDest := filepath.Join(d.workDir, "floor.bin")
	floor := func() {
		if err := uploadFloor(floorDest, data); err != nil {
			b.Fatal(err)
		}
		_ = os.Remove(floorDest)
	}

	rounds := uploadRounds{size: total}
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rounds.round(b, d.pid, floor, upload)
		b.StopTimer()
		if fi, err := os.Stat(dest); err != nil || fi.Size() != total {
			b.Fatalf("uploaded file: %v %v", fi, err)
		}
		_ = os.Remove(dest)
		b.StartTimer()
	}
	b.StopTimer()
	rounds.report(b, "upload-MiB/s", "floor-MiB/s")
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

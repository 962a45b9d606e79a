package upgrade

import (
	"context"
	"fmt"
	"net/http"
)

// fetch puts the planned binary in the upgrade folder: downloaded, or
// copied from its path, bounded in size (and a download in time). It
// returns the staged file and its sha256.
func (u *Upgrader) fetch(ctx context.Context, p plan) (path, sum string, err error) {
	if p.path != "" {
		src, err := openBinary(p.path, u.cfg.Restricted)
		if err != nil {
			return "", "", err
		}
		defer src.Close()
		return stage(u.cfg.Dir, candidatePrefix, src, u.cfg.MaxBytes, u.progress)
	}
	ctx, cancel := context.WithTimeout(ctx, u.cfg.DownloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrDownload, err)
	}
	req.Header.Set("User-Agent", "sandbox-api/"+u.cfg.Version)
	resp, err := u.client().Do(req)
	if err != nil {
		return "", "", fmt.Errorf("%w: %v", ErrDownload, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("%w: %s answered %s", ErrDownload, p.url, resp.Status)
	}
	if resp.ContentLength > u.cfg.MaxBytes {
		return "", "", fmt.Errorf("%w: %s is %d bytes, more than %d", ErrDownload, p.url, resp.ContentLength, u.cfg.MaxBytes)
	}
	path, sum, err = stage(u.cfg.Dir, candidatePrefix, resp.Body, u.cfg.MaxBytes, u.progress)
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %s: %v", ErrDownload, p.url, ctx.Err())
	}
	return path, sum, err
}

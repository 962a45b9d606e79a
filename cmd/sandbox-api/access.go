package main

import (
	"fmt"
	"os"

	"go.uber.org/zap"
)

// checkAccess logs what the daemon did to keep the token out of reach and
// as whom the workload runs, and makes sure the daemon can act as that
// user before anything runs.
func checkAccess(cfg config, tokenWarning error, logger *zap.Logger) error {
	if tokenWarning != nil {
		logger.Warn("token not hidden", zap.Error(tokenWarning))
	}
	if path := cfg.access.tokenFile; path != "" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			logger.Warn("the token file is readable by other users than its owner: make it 0600 or 0400",
				zap.String("path", path), zap.String("mode", fmt.Sprintf("%04o", fi.Mode().Perm())))
		}
	}
	u := cfg.access.user
	if u == nil {
		return nil
	}
	if err := u.Check(); err != nil {
		return fmt.Errorf("--user %s: %w", cfg.access.userSpec, err)
	}
	logger.Info("processes, terminal shells and file operations run as another user",
		zap.String("user", u.Name), zap.Uint32("uid", u.UID), zap.Uint32("gid", u.GID),
		zap.Uint32s("groups", u.Groups), zap.String("home", u.Home))
	return nil
}

package upgrade

import (
	"encoding/json"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// state is the hand-over envelope the switch writes to a memory file for
// the next image (handover.EnvFD): what the daemon itself carries, and the
// state of each service that froze, under its name, in freeze order.
// Descriptors are numbers: the same in the next image, inherited across
// the exec.
type state struct {
	Format int         `json:"format"` // handover.FormatVersion
	Daemon daemonState `json:"daemon"`
	Parts  []partState `json:"parts"`
}

// partState is one service's handover.Frozen, its files as descriptor
// numbers in the same order.
type partState struct {
	Name  string          `json:"name"`
	State json.RawMessage `json:"state"`
	FDs   []int           `json:"fds"`
}

// daemonState is what the daemon carries of its own.
type daemonState struct {
	// Token is the bearer token: it never goes through the environment
	// or the command line of an image (main hides it, token_linux.go).
	Token string `json:"token,omitempty"`
	// User is --user as the first image resolved it: the workload keeps
	// its identity even if the user database changed since.
	User      *runas.User `json:"user,omitempty"`
	StartedAt time.Time   `json:"startedAt"` // the first image's start: the daemon never stopped
	OwnPath   string      `json:"ownPath"`   // the first image's binary, for SIGUSR2
	Listener  int         `json:"listener"`  // the listening socket
	Lock      int         `json:"lock"`      // the log folder's lock; -1: none
	// UpgradeCount counts the upgrades that completed before this switch;
	// Upgrade is this switch's status (running, at the replace step), or
	// the failure a roll-back brings back.
	UpgradeCount int    `json:"upgradeCount"`
	Upgrade      Status `json:"upgrade"`
	Dir          string `json:"dir"`      // the upgrade folder
	Previous     string `json:"previous"` // the binary to roll back to: a copy of the earlier image's
	Candidate    string `json:"candidate"`
	// Earlier is the earlier image's binary when it is a file of the
	// upgrade folder (a candidate of an earlier switch): no longer
	// needed once the switch is over.
	Earlier    string `json:"earlier,omitempty"`
	RolledBack bool   `json:"rolledBack"`
}

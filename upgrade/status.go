package upgrade

import "time"

// State is an upgrade's state, as the contract's UpgradeStatus names it.
type State string

// The states: idle until the first upgrade, running while one is under
// way, then completed or failed.
const (
	StateIdle      State = "idle"
	StateRunning   State = "running"
	StateCompleted State = "completed"
	StateFailed    State = "failed"
)

// Step is where an upgrade is, or where it stopped.
type Step string

// The steps, in order (the contract's names): starting (accepted),
// download (the binary fetched, or copied from binaryPath), validate
// (checksum, executable, --version), replace (the switch: services frozen,
// the new binary executed, the state restored), completed.
const (
	StepNone      Step = "none"
	StepStarting  Step = "starting"
	StepDownload  Step = "download"
	StepValidate  Step = "validate"
	StepReplace   Step = "replace"
	StepCompleted Step = "completed"
)

// Status is the last upgrade, or the one running: the contract's
// UpgradeStatus. It goes to the next image in the hand-over state.
type Status struct {
	State           State     `json:"status"`
	Step            Step      `json:"step"`
	Version         string    `json:"version"` // asked for, else the new binary's own
	DownloadURL     string    `json:"downloadUrl,omitempty"`
	BytesDownloaded int64     `json:"bytesDownloaded,omitempty"` // of a download, or a copy
	BinaryPath      string    `json:"binaryPath,omitempty"`      // the binary executed (a copy in the upgrade folder)
	Error           string    `json:"error,omitempty"`
	LastAttempt     time.Time `json:"lastAttempt,omitempty"`
}

// idle is the status before any upgrade.
var idle = Status{State: StateIdle, Step: StepNone}

// History is what earlier images of the daemon did: the number of
// upgrades that completed, and the last one.
type History struct {
	Count int
	Last  Status
}

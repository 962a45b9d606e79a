package process

import "os/exec"

// RunChild runs cmd to its end as a child of the daemon that the reaper of
// orphans leaves alone, so that its exit status is cmd.Wait's: for the
// daemon's own short commands (the upgrade's check of a new binary). It is
// no managed process: no record, no log, no supervisor.
func (m *Manager) RunChild(cmd *exec.Cmd) error {
	if err := m.reaper.start(cmd); err != nil {
		return err
	}
	err := cmd.Wait()
	m.reaper.waited(cmd.Process.Pid)
	return err
}

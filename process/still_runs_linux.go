package process

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the start times in /proc/<pid>/stat: the kernel
// reports them in USER_HZ, 100 on every Linux architecture (the value the
// ABI promises userspace, whatever the kernel's own tick).
const userHZ = 100

// startSlack is how far the start time the kernel gives may be from the
// one the record holds: the boot time is known to the second, and the
// record's time is taken just before the fork.
const startSlack = 2 * time.Second

// stillRuns tells whether the process pid, started at startedAt, still
// runs. A pid alone could name another process since (pids are reused),
// so its start time must match too. A zombie does not run.
func stillRuns(pid string, startedAt time.Time) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	// The fields after the command name, which may hold spaces and ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return false
	}
	fields := strings.Fields(string(stat[i+1:]))
	// state is field 3 of the line, starttime field 22: here 0 and 19.
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" {
		return false
	}
	ticks, err := strconv.ParseInt(fields[19], 10, 64)
	if err != nil {
		return false
	}
	boot, ok := bootTime()
	if !ok {
		return false
	}
	started := boot.Add(time.Duration(ticks) * time.Second / userHZ)
	d := started.Sub(startedAt)
	return d > -startSlack && d < startSlack
}

// bootTime is when the machine booted, from /proc/stat's btime.
func bootTime() (time.Time, bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			secs, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
			return time.Unix(secs, 0), err == nil
		}
	}
	return time.Time{}, false
}

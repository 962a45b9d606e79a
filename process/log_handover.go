package process

import (
	"errors"
	"fmt"
	"os"
)

// frozenLog is a Log handed to the next image of the daemon: its segments
// are files on disk, which stay where they are; the state says what they
// hold, and where the next append goes.
type frozenLog struct {
	Prefix      string          `json:"prefix"`
	SegmentSize int64           `json:"segmentSize"`
	MaxBytes    int64           `json:"maxBytes"`
	Segments    []frozenSegment `json:"segments"`
	End         int64           `json:"end"`
	Dropped     int64           `json:"dropped"`
	DataEnd     int64           `json:"dataEnd"`
	DataDropped int64           `json:"dataDropped"`
	Finished    bool            `json:"finished"`
	Removed     bool            `json:"removed"`
	// Writing: the last segment is open for appends (reopened, and its size
	// checked, by the next image).
	Writing  bool   `json:"writing"`
	WriteErr string `json:"writeErr,omitempty"`
	Lost     int64  `json:"lost,omitempty"`
	// Tails are the indexes of stdout's and stderr's last output; an image
	// from before them hands over none, and its tails then walk the log.
	Tails []frozenTailIndex `json:"tails,omitempty"`
}

type frozenSegment struct {
	Seq   uint64 `json:"seq"`
	Base  int64  `json:"base"`
	Size  int64  `json:"size"`
	Data  int64  `json:"data"`
	Path  string `json:"path"`
	Index int    `json:"index"`
}

// frozenTailIndex is a tailIndex handed over: its newest runs, at most
// frozenTailRuns, each as [start, end, segBase, data], so that thousands
// of processes' indexes stay a small part of the state (its bound is
// upgrade's maxStateBytes). Runs left out move from past them: a tail
// walks back for what they held.
type frozenTailIndex struct {
	Runs   [][4]int64 `json:"runs"`
	From   int64      `json:"from"`
	Pruned bool       `json:"pruned,omitempty"`
}

const frozenTailRuns = 8

func freezeTailIndex(x tailIndex) frozenTailIndex {
	runs := x.runs[max(0, len(x.runs)-frozenTailRuns):]
	ft := frozenTailIndex{From: x.from, Pruned: x.pruned}
	if len(runs) < len(x.runs) {
		ft.From = runs[0].Start
	}
	for _, r := range runs {
		ft.Runs = append(ft.Runs, [4]int64{r.Start, r.End, r.SegBase, r.Data})
	}
	return ft
}

func resumeTailIndex(ft frozenTailIndex) tailIndex {
	x := tailIndex{from: ft.From, pruned: ft.Pruned}
	for _, r := range ft.Runs {
		x.runs = append(x.runs, tailRun{Start: r[0], End: r[1], SegBase: r[2], Data: r[3]})
		x.total += r[3]
	}
	return x
}

// freeze describes the log; nothing may append meanwhile (Manager.Freeze
// has stopped every writer).
func (l *Log) freeze() frozenLog {
	l.mu.Lock()
	defer l.mu.Unlock()
	fl := frozenLog{
		Prefix: l.prefix, SegmentSize: l.segmentSize, MaxBytes: l.maxBytes,
		End: l.end, Dropped: l.dropped, DataEnd: l.dataEnd, DataDropped: l.dataDropped,
		Finished: l.finished, Removed: l.removed, Writing: l.w != nil, Lost: l.lost,
	}
	if l.writeErr != nil {
		fl.WriteErr = l.writeErr.Error()
	}
	for _, s := range l.segs {
		fl.Segments = append(fl.Segments, frozenSegment{Seq: s.seq, Base: s.base, Size: s.size, Data: s.data, Path: s.path, Index: s.index})
	}
	for _, x := range l.tails {
		fl.Tails = append(fl.Tails, freezeTailIndex(x))
	}
	return fl
}

// resumeLog rebuilds a frozen log in dir. The segment being written is
// reopened for appends; its size on disk must be what the state says, or
// the records would no longer be framed where readers look for them.
func resumeLog(dir string, fl frozenLog, nextSeq func() uint64) (*Log, error) {
	l := newLog(dir, fl.Prefix, fl.MaxBytes, nextSeq)
	l.segmentSize = fl.SegmentSize
	l.end, l.dropped, l.dataEnd, l.dataDropped = fl.End, fl.Dropped, fl.DataEnd, fl.DataDropped
	l.finished, l.removed, l.lost = fl.Finished, fl.Removed, fl.Lost
	if fl.WriteErr != "" {
		l.writeErr = errors.New(fl.WriteErr)
	}
	for _, s := range fl.Segments {
		l.segs = append(l.segs, &segment{seq: s.Seq, base: s.Base, size: s.Size, data: s.Data, path: s.Path, index: s.Index})
	}
	for i := range l.tails {
		if len(fl.Tails) != len(l.tails) {
			l.tails[i].from = l.end // not handed over: everything is walked
			continue
		}
		l.tails[i] = resumeTailIndex(fl.Tails[i])
	}
	if !fl.Writing || len(l.segs) == 0 {
		return l, nil
	}
	last := l.segs[len(l.segs)-1]
	f, err := os.OpenFile(last.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("reopen log segment: %w", err)
	}
	st, err := f.Stat()
	if err != nil || st.Size() != last.size {
		_ = f.Close()
		if err == nil {
			err = fmt.Errorf("%d bytes on disk, the state says %d", st.Size(), last.size)
		}
		return nil, fmt.Errorf("log segment %s: %w", last.path, err)
	}
	l.w = f
	return l, nil
}

// closeWriter closes the segment a resumed log reopened, when the resume
// fails after all.
func (l *Log) closeWriter() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w != nil {
		_ = l.w.Close()
		l.w = nil
	}
}

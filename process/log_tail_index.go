package process

// tailIndex says where one stream's last output lies in a log, so that a
// tail of that stream reads only the records it returns. Without it, the
// tail of a stream with little output (stderr beside 100 MiB of stdout,
// say) walked the whole log back to find it, on every GET /process/{id},
// on every process of a list, and at the end of every streamed exec.
//
// The index is a short list of runs: stretches of whole records, each
// within one segment, that together hold every record of the stream from
// the offset from on. A write adds its records to its stream's last run
// when nothing came between, or else starts a run. Runs older than the
// last tailIndexBytes of the stream's output are let go, and when there
// are more than tailIndexRuns, the two closest of one segment become one
// (which then holds the other stream's records between them as well, that
// the tail reads past). So the index stays a few hundred bytes at most,
// and a tail reads at worst the gaps merged away, besides its own bytes.
//
// Everything here is guarded by the log's mu.
type tailIndex struct {
	runs  []tailRun // oldest first
	total int64     // the stream's output in runs
	// from: every record of the stream at or past this logical offset is in
	// a run. It is 0 but for a log handed over by an image without the
	// index, or once runs of two segments could not be merged.
	from int64
	// pruned: the stream has output before runs[0] that the index let go;
	// the runs hold tailIndexBytes of it without that.
	pruned bool
}

// tailRun is a stretch of whole records of one segment, [start, end) in
// logical offsets, holding data bytes of the stream's output.
type tailRun struct {
	Start   int64 `json:"start"`
	End     int64 `json:"end"`
	SegBase int64 `json:"segBase"` // the base of the segment it lies in
	Data    int64 `json:"data"`
}

const (
	// tailIndexBytes is the largest tail the index serves: the most any
	// answer inlines (64 KiB of a stream, GET /process/{id} and the MCP
	// tools). A larger tail walks the log back.
	tailIndexBytes = 64 << 10
	// tailIndexRuns bounds the runs of one stream's index.
	tailIndexRuns = 32
)

// add records that [start, end) of the segment based at segBase holds
// records of the stream with data bytes of its output (0 for a loss record,
// which both streams' tails report).
func (x *tailIndex) add(start, end, segBase, data int64) {
	if n := len(x.runs); n > 0 && x.runs[n-1].End == start && x.runs[n-1].SegBase == segBase {
		x.runs[n-1].End = end
		x.runs[n-1].Data += data
	} else {
		x.runs = append(x.runs, tailRun{Start: start, End: end, SegBase: segBase, Data: data})
	}
	x.total += data
	for len(x.runs) > 1 && x.total-x.runs[0].Data >= tailIndexBytes {
		x.dropOldest()
		x.pruned = true
	}
	if len(x.runs) > tailIndexRuns {
		x.mergeClosest()
	}
}

func (x *tailIndex) dropOldest() {
	x.total -= x.runs[0].Data
	x.runs = append(x.runs[:0], x.runs[1:]...)
}

// mergeClosest makes the two runs of one segment with the least between
// them one run. Should no two neighbours share a segment, the oldest run
// is let go, and from moves past it: a tail then walks back for it.
func (x *tailIndex) mergeClosest() {
	best := -1
	for i := 0; i+1 < len(x.runs); i++ {
		a, b := x.runs[i], x.runs[i+1]
		if a.SegBase == b.SegBase && (best < 0 || b.Start-a.End < x.runs[best+1].Start-x.runs[best].End) {
			best = i
		}
	}
	if best < 0 {
		x.dropOldest()
		x.from = x.runs[0].Start
		return
	}
	x.runs[best].End = x.runs[best+1].End
	x.runs[best].Data += x.runs[best+1].Data
	x.runs = append(x.runs[:best+1], x.runs[best+2:]...)
}

// indexRecord adds records of stream s (or a loss record) to tails, the
// indexes of stdout and stderr.
func indexRecord(tails *[2]tailIndex, s Stream, start, end, segBase, data int64) {
	switch s {
	case Stdout, Stderr:
		tails[s-1].add(start, end, segBase, data)
	case lossMark:
		tails[0].add(start, end, segBase, 0)
		tails[1].add(start, end, segBase, 0)
	}
}

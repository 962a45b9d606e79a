package process

import "encoding/binary"

// A segment begins with a record that says where it starts: its logical
// offset and the output bytes written before it. Without it a restart
// could not tell, for a log whose oldest segments a cap removed, how much
// was removed, and so could not give readers the right drop marker. It
// costs nothing on the path of a process: it goes out in the same write as
// the segment's first output, once per segment (at most a quarter of the
// log's cap).
//
// The record is no output: readers skip it, and no stream mask selects it.
// Files written before it existed simply lack it (see readSegmentFile).
const segmentMark Stream = 0x40

// segmentStartSize is the bytes a segment-start record takes in the file.
const segmentStartSize = recordOverhead + 16

// segmentStart is what a segment-start record says.
type segmentStart struct {
	base     int64 // logical offset of the segment's first record
	dataBase int64 // output bytes written to the log before the segment
}

// appendSegmentStart frames the segment-start record of s onto buf.
func appendSegmentStart(buf []byte, s segmentStart) []byte {
	buf = append(buf, byte(segmentMark))
	buf = binary.LittleEndian.AppendUint32(buf, 16)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(s.base))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(s.dataBase))
	return binary.LittleEndian.AppendUint32(buf, 16)
}

// parseSegmentStart reads the payload of a segment-start record.
func parseSegmentStart(payload []byte) (segmentStart, bool) {
	if len(payload) != 16 {
		return segmentStart{}, false
	}
	return segmentStart{
		base:     int64(binary.LittleEndian.Uint64(payload[:8])),
		dataBase: int64(binary.LittleEndian.Uint64(payload[8:])),
	}, true
}

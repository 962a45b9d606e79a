// Package formdata reads a multipart/form-data body one field at a time,
// and streams each field's bytes out in large pieces: the uploads of the
// daemon (a file PUT as a form, a part of a multipart upload) go through
// it on their way to disk.
//
// # Why not mime/multipart
//
// The house prefers the well-kept library, and this package exists only
// because mime/multipart cannot keep the upload's speed target. It reads
// the body through a 4 KiB buffer and hands a field's bytes out at most a
// buffer at a time, so a 256 MiB file costs 65,536 reads and as many 4 KiB
// writes to the file: the profile of a form upload is mostly those system
// calls, and an upload ran at 0.14-0.18x a plain copy to a file. Here one
// buffer of BufferSize (256 KiB, what a plain upload already held to copy
// its body) takes whatever the client has sent, the end of the field is
// looked for in the whole of it ("\r\n--boundary", found by its first two
// bytes, see indexDelim; with a carry-over for a boundary split across
// reads), and Part.WriteTo hands the destination writes of up to the whole
// buffer, straight from it.
//
// The grammar is mime/multipart's, on purpose: a body is accepted or
// refused, and a field's bytes are the same, as mime/multipart would have
// it, whatever the chunks the body arrives in (FuzzReader checks it
// against mime/multipart). That includes its leniencies: the preamble
// before the first boundary, lines ending in "\n" alone when the first
// boundary line does, a field whose body is empty right after its
// headers, a boundary followed by white space, and the decoding of a
// quoted-printable field. The headers of a field are parsed by
// net/textproto, as mime/multipart does. The one difference is a bound:
// the headers of one field may take at most MaxHeaderSize bytes (16 KiB)
// rather than mime/multipart's 10 MiB, so a field costs no memory beyond
// the buffer.
package formdata

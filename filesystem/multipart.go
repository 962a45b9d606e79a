package filesystem

// TEMPORARY stub: the multipart upload store replaces this file.

type uploads struct{}

func newUploads(cfg Config) (*uploads, error) { return &uploads{}, nil }

func (u *uploads) close() {}

package filesystem

import "fmt"

// CheckList tells whether List(p) can read the folder p, without reading
// it: the error List would give for a folder that cannot be opened, or for
// a path that is not a folder. HEAD uses it to answer as GET would.
func (f *FS) CheckList(p string) error {
	abs := f.Resolve(p)
	d, err := openNoBlock(abs) // a FIFO swapped in must not hang the request
	if err != nil {
		return notFound(err)
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w", abs, ErrNotDirectory)
	}
	return nil
}

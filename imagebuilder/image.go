// Package imagebuilder describes a sandbox image step by step, generates its
// Dockerfile (with the sandbox API injected) and writes a build context.
//
// Every step returns a new Image: values are never modified in place, so a
// base can be branched into several images.
//
// The generated image starts through entrypoint.sh, which starts the
// sandbox API and then the image's programs. A custom Entrypoint replaces
// it, and with it the API: an image like
//
//	base.PipInstall("fastapi", "uvicorn").Expose(8000).
//		Entrypoint("python", "-m", "uvicorn", "main:app", "--host", "0.0.0.0")
//
// runs uvicorn and nothing else, so Run never sees it healthy (its error
// then wraps ErrForeignEntrypoint). Give such a program with Cmd instead
// (entrypoint.sh runs it as the process named main), or as a startup
// command in SANDBOX_STARTUP with Env.
//
// The files, by job: image.go, the Image; steps.go, its steps, checked by
// validate.go and quoted by quote.go; dockerfile.go and write.go, the
// Dockerfile and the build context with its blaxel.toml; build.go and
// run.go, docker build and docker run; entrypoint.go, telling an image
// whose entrypoint starts no sandbox API.
//
// The package is a client library: unlike the daemon, it builds on Linux,
// macOS and Windows, and drives a docker CLI.
package imagebuilder

import "errors"

// DefaultSandboxImage is the published image that holds /sandbox-api.
const DefaultSandboxImage = "sandbox-api:latest"

// step is one Dockerfile instruction plus what the build context and
// blaxel.toml need to know about it.
type step struct {
	line  string            // the Dockerfile instruction
	copy  *copySpec         // local file to put in the context (Copy)
	ports []int             // Expose
	env   map[string]string // Env
}

type copySpec struct {
	local   string // absolute path on disk
	context string // name inside the build context
}

// Image is an immutable description of a sandbox image.
type Image struct {
	base          string
	sandboxImage  string
	steps         []step
	errs          []error
	hasEntrypoint bool
	memory        int // MB, for blaxel.toml; 0 means DefaultMemory
}

// FromRegistry starts an image from any reference (registry or local).
func FromRegistry(ref string) Image {
	img := Image{base: ref, sandboxImage: DefaultSandboxImage}
	if err := validateRef(ref); err != nil {
		img.errs = append(img.errs, err)
	}
	return img
}

// WithSandboxImage sets the published image the sandbox API is copied from.
func (i Image) WithSandboxImage(ref string) Image {
	n := i.clone()
	if err := validateRef(ref); err != nil {
		n.errs = append(n.errs, err)
	}
	n.sandboxImage = ref
	return n
}

// Err reports every validation error collected by the steps so far.
func (i Image) Err() error { return errors.Join(i.errs...) }

// clone copies the slices so that appending to the result never writes into
// the backing array shared with the receiver (the branching guarantee).
func (i Image) clone() Image {
	n := i
	n.steps = append([]step(nil), i.steps...)
	n.errs = append([]error(nil), i.errs...)
	return n
}

func (i Image) add(s step, errs ...error) Image {
	n := i.clone()
	for _, e := range errs {
		if e != nil {
			n.errs = append(n.errs, e)
		}
	}
	n.steps = append(n.steps, s)
	return n
}

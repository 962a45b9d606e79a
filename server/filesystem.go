package server

// TEMPORARY stub: the files and folders handlers replace this file.

import (
	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

type filesystemHandlers struct {
	fs   *filesystem.FS
	opts Options
}

func registerFilesystemRoutes(r chi.Router, h *filesystemHandlers) {}

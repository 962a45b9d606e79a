// Command imagebuilder declares a sandbox image with the imagebuilder
// package and prints its Dockerfile. With -build it also builds the image
// with the local Docker engine, and with -run starts it and waits for the
// sandbox API. Copy it as a starting point.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/sandbox-api/sandbox-api/imagebuilder"
)

func main() {
	build := flag.Bool("build", false, "build the image with the local Docker engine")
	run := flag.Bool("run", false, "start the built image and print its URL (implies -build)")
	sandbox := flag.String("sandbox-image", imagebuilder.DefaultSandboxImage, "published image holding /sandbox-api")
	out := flag.String("write", "", "also write the build context into this folder")
	flag.Parse()

	// A shared base, branched into a web image: base stays unchanged.
	base := imagebuilder.FromRegistry("python:3.11-slim").
		WithSandboxImage(*sandbox).
		AptInstall("git", "curl").
		Workdir("/app")
	web := base.
		PipInstall("fastapi", "uvicorn").
		Env(map[string]string{"APP_ENV": "development"}).
		Expose(8000)
	if err := web.Err(); err != nil {
		log.Fatalf("invalid image: %v", err)
	}
	fmt.Print(web.Dockerfile())

	if *out != "" {
		dir, err := web.Write(*out, "web-sandbox")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintln(os.Stderr, "build context:", dir)
	}
	if !*build && !*run {
		return
	}
	ctx := context.Background()
	id, err := web.Build(ctx, imagebuilder.BuildOptions{
		Tag:      "web-sandbox:dev",
		Progress: func(line string) { fmt.Fprintln(os.Stderr, line) },
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "image:", id)
	if !*run {
		return
	}
	c, err := imagebuilder.Run(ctx, imagebuilder.RunOptions{Image: id})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sandbox API:", c.URL, "(Ctrl-C stops it)")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if err := c.Stop(ctx); err != nil {
		log.Fatal(err)
	}
}

// Command minio builds the tests' MinIO server into the user's cache, if
// it is not there yet, and prints its path and how long it took. `make
// e2e` runs it in the background while the first scenarios run, so that
// the build (minutes on two cores) overlaps them and its time is in the
// log, not hidden inside the first S3 test's.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/b2c-dev/b2c/ci/s3"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	bin, err := s3.Binary(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "minio: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("minio: %s (%.1fs)\n", bin, time.Since(start).Seconds())
}

// Package md5lanes computes the MD5 of several streams written at the
// same time faster than one crypto/md5 digest each: the etag of every part
// of a multipart upload is its MD5 (the wire's etags are MD5s), and the
// SDK sends three parts at once. MD5 cannot be split within a stream: each
// 64-byte block needs the state the one before left, and each of its 64
// steps the step before, so one stream runs at the speed of that chain
// (about 900 MB/s here, crypto/md5 in assembly). Eight streams can run
// side by side in the eight 32-bit lanes of a vector register, through
// one chain of vector instructions that costs about what one block of
// one stream costs (BenchmarkBlocks8: 7.7 GB/s over the eight lanes,
// against 0.89 GB/s for crypto/md5, on the 2-core VM of the README):
// blocks8, in assembly for AVX-512 (its three-input logic and rotate
// instructions keep the chain of a step four instructions long).
//
// Pool.New returns a hash.Hash. Its writes of 16 KiB or more are copied,
// in whole blocks, into buffers of the pool (256 KiB each, 16 at most:
// 4 MiB whatever the number of streams), and the write returns: the
// stream reads its next bytes while the last ones are hashed. One
// goroutine of the pool, started when there is work and ended when there
// is none, hashes the waiting streams together, up to eight per pass of
// the kernel, and a stream alone by crypto/md5; streams take turns at the
// lanes, a chunk at a time. Sum waits for the stream's bytes to be
// hashed. A stream has at most four chunks waiting; one with nothing of its
// own waiting hashes where it is when no buffer is free or when the hasher
// already has sixteen streams (eight in lanes, eight waiting): more
// streams than that are better spread over the other cores.
// Where the CPU has no AVX-512 (or the build is not amd64, or purego),
// Pool.New returns crypto/md5's digest, and nothing changes.
//
// The lanes' states come from and go back to crypto/md5 through its own
// saved state (encoding.BinaryAppender and BinaryUnmarshaler), so that the
// padding, the length and Sum stay crypto/md5's, and a stream alone runs
// on its assembly. A format it would stop writing is seen when the state
// is read, and the stream is then hashed by crypto/md5 alone.
//
// Why not a module: github.com/minio/md5-simd does this for 16 lanes, but
// it brings github.com/klauspost/cpuid, whose package initialization runs
// CPUID at every start of the daemon (an exit to the hypervisor each, on
// the virtual machines it runs on), and it sends every 32 KiB block
// through channels into buffers of its own. This package is some 300
// lines, asks CPUID on first use, and is tested against crypto/md5 lane by
// lane and stream by stream.
package md5lanes

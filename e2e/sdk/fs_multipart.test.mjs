// End-to-end: @blaxel/core's large-file path. fs.write and fs.writeBinary
// of more than 5 MB go through /filesystem-multipart (initiate, 5 MiB parts
// three at a time, complete; abort on failure) against the real daemon.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { binPath, connectSdk, eventually, rejection, sleep, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";

const MiB = 1024 * 1024;

let daemon;
let sandbox;
let scratch; // our TMPDIR: the daemon keeps its uploads in scratch/sandbox-api-uploads
let uploadDir;
let savedTmpdir;

before(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-api-e2e-mp-"));
  uploadDir = path.join(scratch, "sandbox-api-uploads");
  // The daemon's default upload folder is under $TMPDIR: give this daemon
  // its own, so that what it leaves behind can be checked.
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
  try {
    daemon = await startDaemon();
  } finally {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
  }
  ({ sandbox } = await connectSdk(daemon.url));
});

after(async () => {
  if (daemon) {
    const exited = daemon.exited();
    await daemon.stop();
    assert.equal(exited, null, `sandbox-api exited during the tests: ${JSON.stringify(exited)}`);
  }
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const T = { timeout: TEST_TIMEOUT_MS };

const sha256 = (data) => crypto.createHash("sha256").update(data).digest("hex");

function sha256File(file) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash("sha256");
    fs.createReadStream(file)
      .on("data", (c) => h.update(c))
      .on("error", reject)
      .on("end", () => resolve(h.digest("hex")));
  });
}

/** Part uploads the daemon logged so far, per upload id. */
function partRequests() {
  const counts = new Map();
  for (const line of daemon.logText().split("\n")) {
    if (!line.includes('"http request"')) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    const m = /^\/filesystem-multipart\/([0-9a-f-]{36})\/part$/.exec(entry.path ?? "");
    if (m && entry.status === 200) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
  }
  return counts;
}

/** The ids that gained part uploads between two partRequests() snapshots. */
function newUploads(before, now) {
  return [...now.keys()].filter((id) => !before.has(id)).map((id) => ({ id, parts: now.get(id) }));
}

/**
 * The uploads since before, once settled(uploads) holds (or the hang guard
 * is over, for the caller's assertions to fail on): the daemon writes an
 * access line after its answer, and batches its log lines, so the lines of
 * an upload the SDK has finished may still be on their way.
 */
async function uploadsSince(before, settled) {
  const now = () => newUploads(before, partRequests());
  return (await eventually(() => (settled(now()) ? now() : null))) ?? now();
}

function uploadsLeft() {
  return fs.existsSync(uploadDir) ? fs.readdirSync(uploadDir) : [];
}

/** The daemon's pid: the process running our binary on the daemon's port. */
function daemonPid() {
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let argv;
    try {
      argv = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    const p = argv.indexOf("-p");
    if (argv[0] === binPath && p >= 0 && argv[p + 1] === String(daemon.port)) return Number(name);
  }
  throw new Error(`no process runs ${binPath} -p ${daemon.port}`);
}

function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m[1]) * 1024;
}

/** Incompressible random bytes. */
const randomBuffer = (size) => crypto.randomFillSync(Buffer.alloc(size));

describe("large uploads through the SDK", () => {
  test("fs.write of a 50 MB string goes through multipart and round-trips", T, async () => {
    const dest = path.join(daemon.workDir, "big", "text-50mb.txt");
    // Printable text (the SDK sends strings as UTF-8), with multi-byte
    // characters across part boundaries.
    const unit = "line of text, with é and 漢字 and emoji 🙂\n";
    const content = unit.repeat(Math.ceil((50 * MiB) / Buffer.byteLength(unit)));
    const size = Buffer.byteLength(content);
    const beforeParts = partRequests();

    await sandbox.fs.write(dest, content);

    assert.equal(fs.statSync(dest).size, size);
    assert.equal(await sha256File(dest), sha256(content));
    assert.equal(fs.statSync(dest).mode & 0o777, 0o644, "the SDK asks for 0644");
    const wantParts = Math.ceil(size / (5 * MiB));
    const ups = await uploadsSince(beforeParts, (u) => u.length === 1 && u[0].parts === wantParts);
    assert.equal(ups.length, 1, `expected one multipart upload, saw ${JSON.stringify(ups)}`);
    assert.equal(ups[0].parts, wantParts, "one part request per 5 MiB");
    assert.deepEqual(uploadsLeft(), [], "the upload folder is empty after complete");
  });

  test("fs.writeBinary of 50 MB of random bytes round-trips (sha256)", T, async () => {
    const dest = path.join(daemon.workDir, "random-50mb.bin");
    const data = randomBuffer(50 * MiB + 123);
    const beforeParts = partRequests();

    await sandbox.fs.writeBinary(dest, data);

    assert.equal(await sha256File(dest), sha256(data));
    assert.equal((await uploadsSince(beforeParts, (u) => u.length === 1)).length, 1, "went through multipart");
    assert.deepEqual(uploadsLeft(), []);
  });

  test("every byte value 0..255, repeated past the multipart threshold, round-trips", T, async () => {
    const dest = path.join(daemon.workDir, "all bytes #1.bin");
    const unit = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const data = Buffer.concat(Array(Math.ceil((6 * MiB) / 256)).fill(unit)); // 6 MiB: two parts
    const beforeParts = partRequests();

    await sandbox.fs.writeBinary(dest, new Uint8Array(data));

    const got = fs.readFileSync(dest);
    assert.equal(got.length, data.length);
    assert.equal(sha256(got), sha256(data));
    const ups = await uploadsSince(beforeParts, (u) => u.length === 1 && u[0].parts === 2);
    assert.deepEqual(ups.map((u) => u.parts), [2]);
  });

  test("a failed complete is aborted by the SDK and leaves nothing behind", T, async () => {
    // A file stands where the destination's folder should be: complete
    // fails, and the SDK aborts the upload.
    const blocker = path.join(daemon.workDir, "not-a-folder");
    fs.writeFileSync(blocker, "I am a file");
    const beforeParts = partRequests();
    const err = await rejection(
      sandbox.fs.writeBinary(path.join(blocker, "child.bin"), randomBuffer(6 * MiB)),
      "writeBinary under a file",
    );
    assert.ok(err, "the SDK reports the failure");
    assert.equal((await uploadsSince(beforeParts, (u) => u.length === 1)).length, 1, "the parts were sent");
    assert.equal(fs.readFileSync(blocker, "utf8"), "I am a file");
    assert.deepEqual(uploadsLeft(), [], "abort removed the upload");
    const aborted = /"method":"DELETE","path":"\/filesystem-multipart\/[0-9a-f-]{36}\/abort","status":200/;
    await eventually(() => aborted.test(daemon.logText()));
    assert.match(daemon.logText(), aborted);
  });

  test("daemon RSS stays bounded during a 200 MB upload", T, async () => {
    const pid = daemonPid();
    const dest = path.join(daemon.workDir, "rss-200mb.bin");
    const data = randomBuffer(200 * MiB);
    const baseline = rssBytes(pid);
    let peak = baseline;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rssBytes(pid));
        samples++;
        await sleep(10);
      }
    })();
    try {
      await sandbox.fs.writeBinary(dest, data);
    } finally {
      sampling = false;
      await sampler;
    }
    assert.equal(await sha256File(dest), sha256(data));
    assert.ok(samples >= 5, `only ${samples} RSS samples were taken during the upload`);
    const growth = peak - baseline;
    // Parts are streamed to disk: three in flight, each with a copy buffer,
    // never a part (5 MiB), let alone the file, in memory.
    assert.ok(
      growth < 40 * MiB,
      `daemon RSS grew by ${(growth / MiB).toFixed(1)} MiB (from ${(baseline / MiB).toFixed(1)} MiB) during a 200 MB upload`,
    );
    console.log(`# rss: baseline ${(baseline / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB during 200 MB (${samples} samples)`);
    fs.rmSync(dest);
  });
});

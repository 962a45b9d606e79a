// End-to-end: the real @blaxel/core SDK (sandbox.fs: read, write,
// readBinary, writeBinary, download, ls, mkdir, rm, cp, writeTree) drives
// the real sandbox-api binary. See harness.mjs for how both are set up.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { connectSdk, rejection, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";

let daemon;
/** @type {import("@blaxel/core").SandboxFileSystem} */
let sfs;

before(async () => {
  daemon = await startDaemon();
  const { sandbox } = await connectSdk(daemon.url);
  sfs = sandbox.fs;
});

after(async () => {
  if (daemon) {
    const exited = daemon.exited();
    await daemon.stop();
    assert.equal(exited, null, `sandbox-api exited during the tests: ${JSON.stringify(exited)}`);
  }
});

const T = { timeout: TEST_TIMEOUT_MS };

const sha256 = (buf) => crypto.createHash("sha256").update(buf).digest("hex");

/** Every byte value, `times` times over. */
function allBytes(times = 4) {
  const b = Buffer.alloc(256 * times);
  for (let i = 0; i < b.length; i++) b[i] = i % 256;
  return b;
}

/** A fresh folder under the daemon's working directory. */
function folder(name) {
  const dir = path.join(daemon.workDir, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

// Names the SDK must carry intact.
const awkwardNames = ["plain.txt", "with space.txt", "hash#tag.txt", "what?.txt", "ünïcødé 文件.txt", "100%.txt"];
// writeBinary pastes the path into the URL unencoded: "#" and "?" cut it
// and "%41" turns into "A" there; the daemon takes the name from the form's
// path field. A "%" that starts no valid escape ("100%.txt") makes the
// request line itself invalid, which net/http refuses before any handler.
const binaryNames = ["plain.txt", "with space.txt", "hash#tag.txt", "what?.txt", "ünïcødé 文件.txt", "pct%41.txt"];

describe("text files", () => {
  test("write then read round-trips, whatever the name", T, async () => {
    const dir = folder("text");
    for (const name of awkwardNames) {
      const p = path.join(dir, name);
      const content = `content of ${name}\nsecond line "quoted" \\ é\n`;
      await sfs.write(p, content);
      assert.equal(fs.readFileSync(p, "utf8"), content, `on disk: ${name}`);
      assert.equal(await sfs.read(p), content, `read back: ${name}`);
    }
  });

  test("write creates parent folders and replaces a file", T, async () => {
    const p = path.join(daemon.workDir, "deep", "er", "file.txt");
    await sfs.write(p, "v1");
    await sfs.write(p, "v2");
    assert.equal(await sfs.read(p), "v2");
  });

  test("relative paths are taken from the daemon's working directory", T, async () => {
    await sfs.write("rel/notes.txt", "relative");
    assert.equal(fs.readFileSync(path.join(daemon.workDir, "rel", "notes.txt"), "utf8"), "relative");
    assert.equal(await sfs.read("rel/notes.txt"), "relative");
  });

  test("reading a missing file rejects with 404", T, async () => {
    const err = await rejection(sfs.read(path.join(daemon.workDir, "missing.txt")), "read of a missing file");
    assert.match(String(err.message ?? err), /404/);
  });
});

describe("binary files", () => {
  test("writeBinary and readBinary carry every byte value", T, async () => {
    const dir = folder("binary");
    const data = allBytes();
    const inputs = {
      "buffer.bin": data,
      "uint8array.bin": new Uint8Array(data),
      "blob.bin": new Blob([data]),
    };
    for (const [name, input] of Object.entries(inputs)) {
      const p = path.join(dir, name);
      await sfs.writeBinary(p, input);
      assert.equal(sha256(fs.readFileSync(p)), sha256(data), `on disk: ${name}`);
      const blob = await sfs.readBinary(p);
      const back = Buffer.from(await blob.arrayBuffer());
      assert.equal(back.length, data.length, name);
      assert.equal(sha256(back), sha256(data), `read back: ${name}`);
    }
  });

  test("writeBinary keeps awkward names intact", T, async () => {
    const dir = folder("binary-names");
    for (const name of binaryNames) {
      const p = path.join(dir, name);
      const data = Buffer.concat([Buffer.from(name), allBytes(1)]);
      await sfs.writeBinary(p, data);
      assert.equal(sha256(fs.readFileSync(p)), sha256(data), `on disk: ${name}`);
      const back = Buffer.from(await (await sfs.readBinary(p)).arrayBuffer());
      assert.equal(sha256(back), sha256(data), `read back: ${name}`);
    }
    // Nothing else was created from a URL cut at "#" or "?".
    assert.deepEqual(fs.readdirSync(dir).sort(), [...binaryNames].sort());
  });

  test("download writes the file's bytes to a local path", T, async () => {
    const remote = path.join(folder("download"), "archive ü.bin");
    const data = allBytes(64);
    fs.writeFileSync(remote, data);
    const local = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sdk-download-")), "copy.bin");
    try {
      await sfs.download(remote, local);
      assert.equal(sha256(fs.readFileSync(local)), sha256(data));
    } finally {
      fs.rmSync(path.dirname(local), { recursive: true, force: true });
    }
  });
});

describe("folders", () => {
  test("ls lists files and subdirectories with their fields", T, async () => {
    const dir = folder("listing");
    fs.writeFileSync(path.join(dir, "b.txt"), "bb");
    fs.writeFileSync(path.join(dir, "a.txt"), "a");
    fs.mkdirSync(path.join(dir, "sub"));
    const listing = await sfs.ls(dir);
    assert.equal(listing.path, dir);
    assert.deepEqual(listing.files.map((f) => f.name), ["a.txt", "b.txt"]);
    assert.deepEqual(listing.subdirectories.map((s) => s.name), ["sub"]);
    const b = listing.files[1];
    assert.equal(b.path, path.join(dir, "b.txt"));
    assert.equal(b.size, 2);
    assert.equal(b.permissions, "644");
    assert.equal(typeof b.owner, "string");
    assert.equal(typeof b.group, "string");
    assert.ok(!Number.isNaN(Date.parse(b.lastModified)), `lastModified ${b.lastModified}`);
  });

  test("mkdir creates nested folders with the given permissions", T, async () => {
    const dir = path.join(daemon.workDir, "made", "by", "mkdir");
    await sfs.mkdir(dir, "0750");
    const st = fs.statSync(dir);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o750);
    await sfs.mkdir(dir); // again: fine
  });

  test("rm deletes a file, and a full folder only when recursive", T, async () => {
    const dir = folder("removal");
    const file = path.join(dir, "f.txt");
    fs.writeFileSync(file, "x");
    await sfs.rm(file);
    assert.equal(fs.existsSync(file), false);

    const full = path.join(dir, "full");
    fs.mkdirSync(path.join(full, "inner"), { recursive: true });
    fs.writeFileSync(path.join(full, "inner", "g.txt"), "y");
    const err = await rejection(sfs.rm(full), "rm of a non-empty folder without recursive");
    assert.match(String(err.message ?? err), /422/);
    assert.equal(fs.existsSync(path.join(full, "inner", "g.txt")), true);

    await sfs.rm(full, true);
    assert.equal(fs.existsSync(full), false);

    await rejection(sfs.rm(path.join(dir, "never-existed")), "rm of a missing path");
  });

  test("cp copies a folder (through the process API)", T, async () => {
    const src = folder("cp src");
    fs.writeFileSync(path.join(src, "one.txt"), "1");
    fs.mkdirSync(path.join(src, "nested"));
    fs.writeFileSync(path.join(src, "nested", "two#.txt"), "2");
    const dst = path.join(daemon.workDir, "cp dst");
    const res = await sfs.cp(src, dst);
    assert.equal(res.message, "Files copied");
    assert.equal(fs.readFileSync(path.join(dst, "one.txt"), "utf8"), "1");
    assert.equal(fs.readFileSync(path.join(dst, "nested", "two#.txt"), "utf8"), "2");
  });
});

describe("trees", () => {
  test("writeTree writes many files under a folder", T, async () => {
    const dir = path.join(daemon.workDir, "tree dest");
    const files = [
      { path: "README.md", content: "# readme" },
      { path: "src/main.js", content: "console.log(1)" },
      { path: "src/lib/ü tïl.js", content: "export {}" },
      { path: "hash#?.txt", content: "odd name" },
    ];
    const tree = await sfs.writeTree(files, dir);
    for (const f of files) {
      assert.equal(fs.readFileSync(path.join(dir, f.path), "utf8"), f.content, f.path);
    }
    assert.equal(tree.path, dir);
    assert.deepEqual(tree.subdirectories.map((s) => s.name), ["src"]);
  });

  test("writeTree refuses keys that leave the folder", T, async () => {
    const dir = path.join(daemon.workDir, "tree guarded");
    const err = await rejection(
      sfs.writeTree([{ path: "../escaped.txt", content: "x" }], dir),
      "writeTree with a ../ key",
    );
    assert.match(String(err.message ?? err), /400/);
    assert.equal(fs.existsSync(path.join(daemon.workDir, "escaped.txt")), false);
  });
});

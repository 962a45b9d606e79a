// End-to-end: what @blaxel/core hands its callers from the filesystem
// routes, checked against the existing daemon's answers: success messages,
// permissions without a leading zero, find returning every match when asked.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { connectSdk, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";

let daemon;
let sandbox;

before(async () => {
  daemon = await startDaemon();
  ({ sandbox } = await connectSdk(daemon.url));
});

after(async () => {
  if (daemon) {
    const exited = daemon.exited();
    await daemon.stop();
    assert.equal(exited, null, `sandbox-api exited during the tests: ${JSON.stringify(exited)}`);
  }
});

const T = { timeout: TEST_TIMEOUT_MS };

describe("filesystem answers as the existing daemon gives them", () => {
  test("write, mkdir and rm resolve with its messages", T, async () => {
    const dir = path.join(daemon.workDir, "msg");
    const file = path.join(dir, "a.txt");
    assert.deepEqual(await sandbox.fs.write(file, "hello"), { path: file, message: "File created/updated successfully" });
    const sub = path.join(dir, "sub");
    assert.deepEqual(await sandbox.fs.mkdir(sub), { path: sub, message: "Directory created successfully" });
    assert.deepEqual(await sandbox.fs.rm(file), { path: file, message: "File deleted successfully" });
    assert.deepEqual(await sandbox.fs.rm(sub), { path: sub, message: "Directory deleted successfully" });
  });

  test("ls lists permissions in octal without a leading zero", T, async () => {
    const dir = path.join(daemon.workDir, "perm");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    fs.chmodSync(path.join(dir, "run.sh"), 0o755);
    const listing = await sandbox.fs.ls(dir);
    assert.deepEqual(
      listing.files.map((f) => `${f.name}:${f.permissions}`),
      ["run.sh:755"],
    );
  });

  test("find with maxResults 0 returns every match, and says the answer is whole", T, async () => {
    const root = path.join(daemon.workDir, "many");
    const want = [];
    for (let i = 0; i < 30; i++) {
      const sub = path.join(root, `d${String(i).padStart(2, "0")}`);
      fs.mkdirSync(sub, { recursive: true });
      for (let j = 0; j < 50; j++) {
        const name = `f${String(j).padStart(2, "0")}.txt`;
        fs.writeFileSync(path.join(sub, name), "");
        want.push(`${path.basename(sub)}/${name}`);
      }
    }
    const all = await sandbox.fs.find(root, { type: "file", maxResults: 0 });
    assert.deepEqual(all.matches.map((m) => m.path), want);
    assert.equal(all.total, want.length);
    assert.equal(all.truncated, false);
    const some = await sandbox.fs.find(root, { type: "file", maxResults: 10 });
    assert.equal(some.matches.length, 10);
    assert.equal(some.truncated, true);
  });
});

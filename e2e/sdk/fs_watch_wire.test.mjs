// End-to-end: what sandbox.fs.watch sees of the SDK's own writes. The
// daemon writes files atomically (a temporary file renamed over the
// destination); a watch must see only what an in-place write shows: one
// WRITE of a replaced file, CREATE then WRITE of a new one, never the
// temporary name, and withContent must fetch the new content.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { connectSdk, eventually, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";
import { watchArmed } from "./watching.mjs";

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

// Hang guards, not timings: a slow, shared machine passes, a hang fails.
const T = { timeout: TEST_TIMEOUT_MS };

function freshDir(name) {
  const dir = path.join(daemon.tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}


/**
 * Makes a known change after the act (a new file, written directly), waits
 * for its event and returns every event before it: the act's, and only
 * the act's.
 */
async function untilSentinel(w, dir) {
  const name = "zz-sentinel";
  fs.writeFileSync(path.join(dir, name), "");
  const i = await eventually(
    () => {
      const at = w.events.findIndex((ev) => ev.name === name);
      return at >= 0 ? at + 1 : 0;
    },
  );
  assert.ok(i, `no event of the sentinel among ${JSON.stringify(w.events)}; errors: ${w.errors.map(String)}`);
  return w.events.slice(0, i - 1);
}

const brief = (ev) => ({ op: ev.op, name: ev.name, path: ev.path, ...("content" in ev ? { content: ev.content } : {}) });

describe("sandbox.fs.watch of the SDK's own writes", () => {
  test("fs.write replacing a file is exactly one WRITE of that file", T, async () => {
    const dir = freshDir("replace");
    fs.writeFileSync(path.join(dir, "w.txt"), "old");
    const w = await watchArmed(sandbox, dir, dir);
    try {
      await sandbox.fs.write(path.join(dir, "w.txt"), "new content");
      const seen = await untilSentinel(w, dir);
      assert.deepEqual(seen.map(brief), [{ op: "WRITE", name: "w.txt", path: dir }]);
      assert.deepEqual(w.errors, []);
    } finally {
      w.close();
    }
  });

  test("fs.write of a new file is CREATE then WRITE; writeBinary over it one WRITE", T, async () => {
    const dir = freshDir("new");
    const w = await watchArmed(sandbox, dir, dir);
    try {
      await sandbox.fs.write(path.join(dir, "n.txt"), "first");
      await sandbox.fs.writeBinary(path.join(dir, "n.txt"), Buffer.from("second"));
      const seen = await untilSentinel(w, dir);
      assert.deepEqual(
        seen.map((ev) => `${ev.op} ${ev.name}`),
        ["CREATE n.txt", "WRITE n.txt", "WRITE n.txt"],
      );
    } finally {
      w.close();
    }
  });

  test("withContent gets the new content, and no other name is fetched", T, async () => {
    const dir = freshDir("content");
    fs.writeFileSync(path.join(dir, "c.txt"), "before");
    const w = await watchArmed(sandbox, dir, dir, { withContent: true });
    try {
      await sandbox.fs.write(path.join(dir, "c.txt"), "after the write");
      await sandbox.fs.write(path.join(dir, "fresh.txt"), "brand new");
      const seen = await untilSentinel(w, dir);
      assert.deepEqual(seen.map(brief), [
        { op: "WRITE", name: "c.txt", path: dir, content: "after the write" },
        { op: "CREATE", name: "fresh.txt", path: dir, content: "brand new" },
        { op: "WRITE", name: "fresh.txt", path: dir, content: "brand new" },
      ]);
    } finally {
      w.close();
    }
  });

  test("a watch of the file itself sees each fs.write as one WRITE and goes on", T, async () => {
    const dir = freshDir("single");
    const file = path.join(dir, "s.txt");
    fs.writeFileSync(file, "v0");
    const events = [];
    const errors = [];
    const handle = sandbox.fs.watch(file, (ev) => events.push(ev), { onError: (err) => errors.push(err) });
    try {
      // Armed once an in-place change of the file is reported.
      const armed = await eventually(
        () => {
          if (events.length === 0) fs.appendFileSync(file, ".");
          return events.length > 0;
        },
        { every: 100 },
      );
      assert.ok(armed, `the watch of the file never reported a change; errors: ${errors.map(String)}`);
      // A first CHMOD marks the end of the probes' events.
      fs.chmodSync(file, 0o640);
      const chmods = () => events.filter((ev) => ev.op === "CHMOD").length;
      assert.ok(await eventually(() => chmods() === 1), `no CHMOD: ${JSON.stringify(events)}`);
      const before = events.length;
      await sandbox.fs.write(file, "v1");
      await sandbox.fs.write(file, "v2");
      fs.chmodSync(file, 0o600); // the sentinel: proves the watch still runs
      const done = await eventually(() => chmods() === 2);
      assert.ok(done, `no CHMOD after the writes: ${JSON.stringify(events.slice(before))}; errors: ${errors.map(String)}`);
      const after = events.slice(before);
      assert.deepEqual(
        after.map((ev) => `${ev.op} ${ev.name}`),
        ["WRITE s.txt", "WRITE s.txt", "CHMOD s.txt"],
      );
      assert.deepEqual(errors, []);
    } finally {
      handle.close();
    }
  });
});

// End-to-end: the real @blaxel/core SDK (sandbox.fs.watch) drives the real
// sandbox-api binary. See harness.mjs for how both are set up.

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

const T = { timeout: TEST_TIMEOUT_MS };

/** A fresh folder under the daemon's temp folder. */
function freshDir(name) {
  const dir = path.join(daemon.tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}


/** Waits until an event matches pred; returns it. */
async function waitEvent(w, pred, what) {
  const ev = await eventually(() => w.events.find(pred));
  assert.ok(ev, `no ${what} among ${JSON.stringify(w.events)}; errors: ${w.errors.map(String)}`);
  return ev;
}

const fileEvent = (op, dir, name) => (ev) => ev.op === op && ev.path === dir && ev.name === name;

describe("sandbox.fs.watch", () => {
  test("reports each change of a folder as {op, name, path}", T, async () => {
    const dir = freshDir("flat");
    fs.mkdirSync(path.join(dir, "sub"));
    const w = await watchArmed(sandbox, dir, dir);
    try {
      const file = path.join(dir, "a.txt");
      fs.writeFileSync(file, "");
      fs.writeFileSync(path.join(dir, "sub", "deep.txt"), ""); // below: not reported
      fs.appendFileSync(file, "more");
      fs.chmodSync(file, 0o600);
      fs.renameSync(file, path.join(dir, "b.txt"));
      fs.rmSync(path.join(dir, "b.txt"));
      const removed = await waitEvent(w, fileEvent("REMOVE", dir, "b.txt"), "REMOVE b.txt");
      assert.deepEqual(Object.keys(removed).sort(), ["name", "op", "path"]);
      const seen = w.events.map((ev) => `${ev.op} ${ev.name}`);
      assert.deepEqual(seen, ["CREATE a.txt", "WRITE a.txt", "CHMOD a.txt", "RENAME a.txt", "CREATE b.txt", "REMOVE b.txt"]);
      assert.deepEqual(w.errors, []);
    } finally {
      w.close();
    }
  });

  test("a /** suffix watches the whole tree, new folders included", T, async () => {
    const dir = freshDir("tree");
    fs.mkdirSync(path.join(dir, "old", "deep"), { recursive: true });
    const w = await watchArmed(sandbox, dir, `${dir}/**`);
    try {
      fs.writeFileSync(path.join(dir, "old", "deep", "x.txt"), "");
      await waitEvent(w, fileEvent("CREATE", path.join(dir, "old", "deep"), "x.txt"), "CREATE in an old folder");
      // Made at once with its content: nothing may be missed.
      const fresh = path.join(dir, "new", "a", "b");
      fs.mkdirSync(fresh, { recursive: true });
      fs.writeFileSync(path.join(fresh, "y.txt"), "");
      await waitEvent(w, fileEvent("CREATE", dir, "new"), "CREATE new");
      await waitEvent(w, fileEvent("CREATE", path.join(dir, "new"), "a"), "CREATE new/a");
      await waitEvent(w, fileEvent("CREATE", fresh, "y.txt"), "CREATE new/a/b/y.txt");
      // And later changes deep in the new folder.
      fs.appendFileSync(path.join(fresh, "y.txt"), "later");
      await waitEvent(w, fileEvent("WRITE", fresh, "y.txt"), "WRITE new/a/b/y.txt");
    } finally {
      w.close();
    }
  });

  test("ignore drops events whose path contains a pattern", T, async () => {
    const dir = freshDir("ignore");
    const w = await watchArmed(sandbox, dir, `${dir}/**`, { ignore: ["node_modules", ".swp"] });
    try {
      fs.mkdirSync(path.join(dir, "node_modules", "pkg"), { recursive: true });
      fs.writeFileSync(path.join(dir, "node_modules", "pkg", "index.js"), "");
      fs.writeFileSync(path.join(dir, "main.go.swp"), "");
      fs.writeFileSync(path.join(dir, "main.go"), "");
      await waitEvent(w, fileEvent("CREATE", dir, "main.go"), "CREATE main.go");
      assert.deepEqual(
        w.events.map((ev) => `${ev.op} ${ev.name}`),
        ["CREATE main.go"],
      );
    } finally {
      w.close();
    }
  });

  test("withContent adds the content of created and written files", T, async () => {
    const dir = freshDir("content");
    const w = await watchArmed(sandbox, dir, dir, { withContent: true });
    try {
      fs.writeFileSync(path.join(dir, "note.txt"), "hello, watcher\n");
      const ev = await waitEvent(
        w,
        (e) => e.name === "note.txt" && e.content === "hello, watcher\n",
        "an event of note.txt with its content",
      );
      assert.ok(["CREATE", "WRITE"].includes(ev.op), `op ${ev.op}`);
      assert.equal(ev.path, dir);
      fs.rmSync(path.join(dir, "note.txt"));
      const removed = await waitEvent(w, fileEvent("REMOVE", dir, "note.txt"), "REMOVE note.txt");
      assert.equal("content" in removed, false, "a REMOVE carries no content");
    } finally {
      w.close();
    }
  });

  test("150 watches at once, past the kernel's default of 128 inotify instances, each see their folder", T, async () => {
    const n = 150;
    const dirs = Array.from({ length: n }, (_, i) => freshDir(`many/${i}`));
    const watches = await Promise.all(dirs.map((dir) => watchArmed(sandbox, dir, dir)));
    try {
      dirs.forEach((dir) => fs.writeFileSync(path.join(dir, "own.txt"), ""));
      for (const [i, w] of watches.entries()) {
        await waitEvent(w, fileEvent("CREATE", dirs[i], "own.txt"), `CREATE own.txt in watch ${i}`);
        assert.deepEqual(w.errors, [], `watch ${i}`);
        assert.ok(!w.events.some((ev) => ev.path !== dirs[i]), `watch ${i} saw another folder: ${JSON.stringify(w.events)}`);
      }
    } finally {
      watches.forEach((w) => w.close());
    }
  });

  test("a missing folder reaches onError", T, async () => {
    const errors = [];
    const handle = sandbox.fs.watch(path.join(daemon.tmp, "missing"), () => {}, {
      onError: (err) => errors.push(err),
    });
    try {
      const got = await eventually(() => errors.length > 0);
      assert.ok(got, "no error for a missing folder");
      assert.match(String(errors[0]), /no such file/);
    } finally {
      handle.close();
    }
  });
});

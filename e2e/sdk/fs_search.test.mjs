// End-to-end: @blaxel/core's fs.find, fs.grep and fs.search against the real
// daemon. The tree is laid out with node's fs, so only the searches are
// under test here.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { connectSdk, rejection, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";

let daemon;
let sandbox;
let root; // absolute: <workDir>/proj

const tree = {
  "main.go": "package main\n\nfunc main() {\n\t// TODO: wire the server\n}\n",
  "cmd/main/run.go": "package main\n// todo: flags\n",
  "src/domain.go": "package src\n",
  "src/util/strings.ts": "export const x = 1; // TODO later\n",
  "docs/maintenance.md": "# Maintenance\nNothing to do.\n",
  "assets/logo.bin": "TODO\u0000\u0001\u0002binary",
  ".env": "TODO=secret\n",
  "node_modules/dep/index.js": "// TODO in a dependency\n",
  "dist/bundle.js": "// TODO in a build output\n",
};

before(async () => {
  daemon = await startDaemon();
  ({ sandbox } = await connectSdk(daemon.url));
  root = path.join(daemon.workDir, "proj");
  for (const [name, content] of Object.entries(tree)) {
    const p = path.join(root, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
});

after(async () => {
  if (daemon) {
    const exited = daemon.exited();
    await daemon.stop();
    assert.equal(exited, null, `sandbox-api exited during the tests: ${JSON.stringify(exited)}`);
  }
});

const T = { timeout: TEST_TIMEOUT_MS };

const listed = (res) => res.matches.map((m) => `${m.path}:${m.type}`);
const lines = (res) => res.matches.map((m) => `${m.path}:${m.line}`);

describe("fs.find", () => {
  test("files by pattern, relative to the root, heavy and hidden entries skipped", T, async () => {
    const res = await sandbox.fs.find(root, { type: "file", patterns: ["*.go", "*.js"] });
    assert.deepEqual(listed(res), ["cmd/main/run.go:file", "main.go:file", "src/domain.go:file"]);
    assert.equal(res.total, 3);
  });

  test("folders only (the root as \".\", like find(1)), with a result limit", T, async () => {
    const all = await sandbox.fs.find(root, { type: "directory" });
    assert.deepEqual(listed(all), [
      ".:directory",
      "assets:directory",
      "cmd:directory",
      "cmd/main:directory",
      "docs:directory",
      "src:directory",
      "src/util:directory",
    ]);
    assert.equal(all.truncated, false);
    const two = await sandbox.fs.find(root, { type: "directory", maxResults: 2 });
    assert.deepEqual(listed(two), [".:directory", "assets:directory"]);
    assert.equal(two.truncated, true);
  });

  test("excludeDirs replaces the default list; excludeHidden: false shows dotfiles", T, async () => {
    const js = await sandbox.fs.find(root, { patterns: ["*.js"], excludeDirs: ["src"] });
    assert.deepEqual(listed(js), ["dist/bundle.js:file", "node_modules/dep/index.js:file"]);
    const dot = await sandbox.fs.find(root, { patterns: [".env"], excludeHidden: false });
    assert.deepEqual(listed(dot), [".env:file"]);
  });

  test("a relative path is taken from the daemon's working directory", T, async () => {
    const res = await sandbox.fs.find("proj/src", { type: "file" });
    assert.deepEqual(listed(res), ["domain.go:file", "util/strings.ts:file"]);
  });

  test("an unknown type and a missing folder are errors", T, async () => {
    const bad = await rejection(sandbox.fs.find(root, { type: "socket" }), "find type=socket");
    assert.match(String(bad?.message ?? bad), /status 400.*type "socket"/);
    const missing = await rejection(sandbox.fs.find(path.join(root, "nope")), "find in a missing folder");
    assert.match(String(missing?.message ?? missing), /status 404/);
  });
});

describe("fs.grep", () => {
  test("case is ignored by default; binary files, hidden files and heavy folders are skipped", T, async () => {
    const res = await sandbox.fs.grep("todo", root);
    assert.deepEqual(lines(res), ["cmd/main/run.go:2", "main.go:4", "src/util/strings.ts:1"]);
    assert.equal(res.total, 3);
    assert.equal(res.query, "todo");
    const m = res.matches[1];
    assert.equal(m.text, "\t// TODO: wire the server");
    assert.equal(m.column, 5);
  });

  test("caseSensitive, filePattern and maxResults", T, async () => {
    const exact = await sandbox.fs.grep("TODO", root, { caseSensitive: true });
    assert.deepEqual(lines(exact), ["main.go:4", "src/util/strings.ts:1"]);
    const ts = await sandbox.fs.grep("todo", root, { filePattern: "*.ts" });
    assert.deepEqual(lines(ts), ["src/util/strings.ts:1"]);
    const one = await sandbox.fs.grep("todo", root, { maxResults: 1 });
    assert.deepEqual(lines(one), ["cmd/main/run.go:2"]);
    assert.equal(one.total, 1);
  });

  test("contextLines gives the lines around each match", T, async () => {
    const res = await sandbox.fs.grep("wire the server", root, { contextLines: 1 });
    assert.equal(res.matches.length, 1);
    assert.equal(res.matches[0].context, "func main() {\n\t// TODO: wire the server\n}");
  });

  test("excludeDirs replaces the default list", T, async () => {
    const res = await sandbox.fs.grep("todo", root, { excludeDirs: ["cmd", "src"] });
    assert.deepEqual(lines(res), ["dist/bundle.js:1", "main.go:4", "node_modules/dep/index.js:1"]);
  });

  test("no match is an empty list, a missing folder an error", T, async () => {
    const none = await sandbox.fs.grep("no such text anywhere", root);
    assert.deepEqual(none.matches, []);
    assert.equal(none.total, 0);
    const err = await rejection(sandbox.fs.grep("x", path.join(root, "nope")), "grep in a missing folder");
    assert.match(String(err?.message ?? err), /status 404/);
  });
});

describe("fs.search", () => {
  // The SDK sends no query: the daemon takes the last element of the path
  // as the query and its parent as the root.
  test("the last path element is the query, ranked best first", T, async () => {
    const res = await sandbox.fs.search("ignored by the SDK", path.join(root, "main"));
    const paths = res.matches.map((m) => m.path);
    // Same score for both: the shorter path wins.
    assert.deepEqual(paths.slice(0, 2), ["main.go", "cmd/main"], `best first: ${JSON.stringify(res.matches)}`);
    assert.equal(res.matches[0].type, "file");
    assert.equal(res.matches[1].type, "directory");
    for (const p of ["cmd/main/run.go", "docs/maintenance.md", "src/domain.go"]) {
      assert.ok(paths.includes(p), `${p} missing from ${JSON.stringify(paths)}`);
    }
    assert.ok(paths.indexOf("main.go") < paths.indexOf("src/domain.go"), JSON.stringify(paths));
    for (let i = 1; i < res.matches.length; i++) {
      assert.ok(res.matches[i].score <= res.matches[i - 1].score, JSON.stringify(res.matches));
      assert.equal(typeof res.matches[i].score, "number");
    }
    assert.equal(res.total, res.matches.length);
  });

  test("maxResults and patterns", T, async () => {
    const res = await sandbox.fs.search("", path.join(root, "main"), { maxResults: 2, patterns: ["*.go"] });
    assert.deepEqual(
      res.matches.map((m) => m.path),
      ["main.go", "cmd/main/run.go"],
    );
  });

  test("hidden entries and heavy folders on request", T, async () => {
    const plain = await sandbox.fs.search("", path.join(root, "index"));
    assert.deepEqual(plain.matches, []);
    const all = await sandbox.fs.search("", path.join(root, "index"), { excludeDirs: ["none"], excludeHidden: false });
    assert.ok(
      all.matches.some((m) => m.path === "node_modules/dep/index.js"),
      JSON.stringify(all.matches),
    );
  });
});

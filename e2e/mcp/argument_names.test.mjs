// The tools take the existing daemon's argument names, which agents have
// been tuned on, and an optional argument sent as null counts as absent;
// the server names itself as the existing daemon does.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { REQUEST, startDaemonWithClient } from "./harness.mjs";

let daemon, workDir, client;

before(async () => {
  daemon = await startDaemonWithClient();
  ({ workDir, client } = daemon);
  fs.mkdirSync(path.join(workDir, "src"));
  fs.writeFileSync(path.join(workDir, "src", "app.js"), "// Needle in the app\n");
  fs.writeFileSync(path.join(workDir, "src", "app.test.js"), "// needle in a test\n");
  fs.writeFileSync(path.join(workDir, "poem.txt"), "one\ntwo\nthree\nfour\n");
});

after(async () => {
  await daemon?.stop();
});

async function call(name, args) {
  const res = await client.callTool({ name, arguments: args }, undefined, REQUEST);
  assert.ok(!res.isError, `${name} ${JSON.stringify(args)}: ${JSON.stringify(res.content)}`);
  return res.structuredContent;
}

test("serverInfo.name is the existing daemon's", () => {
  assert.equal(client.getServerVersion().name, "Sandbox API Server");
});

test("codegenReadFileRange takes targetFile and the one-indexed lines", async () => {
  const out = await call("codegenReadFileRange", { targetFile: "poem.txt", startLineOneIndexed: 2, endLineOneIndexedInclusive: 3 });
  assert.equal(out.content, "2\ttwo\n3\tthree\n");
  const all = await call("codegenReadFileRange", { targetFile: "poem.txt", startLineOneIndexed: null, endLineOneIndexedInclusive: null });
  assert.equal(all.content, "1\tone\n2\ttwo\n3\tthree\n4\tfour\n");
});

test("codegenListDir takes relativeWorkspacePath", async () => {
  const out = await call("codegenListDir", { relativeWorkspacePath: "src" });
  assert.deepEqual([...out.entries].sort(), ["app.js", "app.test.js"]);
  const top = await call("codegenListDir", { relativeWorkspacePath: null });
  assert.ok(top.entries.includes("src/") && top.entries.includes("poem.txt"), JSON.stringify(top));
});

test("codegenGrepSearch takes caseSensitive, includePattern and excludePattern", async () => {
  const paths = (out) => out.matches.map((m) => m.path).sort();
  assert.deepEqual(
    paths(await call("codegenGrepSearch", { query: "needle", caseSensitive: null, includePattern: null, excludePattern: null })),
    ["src/app.js", "src/app.test.js"],
  );
  assert.deepEqual(paths(await call("codegenGrepSearch", { query: "Needle", caseSensitive: true })), ["src/app.js"]);
  assert.deepEqual(paths(await call("codegenGrepSearch", { query: "needle", excludePattern: "*.test.js" })), ["src/app.js"]);
  assert.deepEqual(paths(await call("codegenGrepSearch", { query: "needle", includePattern: "*.test.js" })), ["src/app.test.js"]);
});

test("codegenFileSearch takes query and directory", async () => {
  const out = await call("codegenFileSearch", { query: "apptest", directory: null });
  assert.equal(out.files[0], "src/app.test.js");
  const inSrc = await call("codegenFileSearch", { query: "app", directory: "src" });
  assert.ok(inSrc.files.includes("app.js"), JSON.stringify(inSrc));
});

test("fsWriteFile takes permissions and isDirectory; fsDeleteFileOrDirectory takes isDirectory", async () => {
  await call("fsWriteFile", { path: "bin/run.sh", content: "echo run\n", permissions: "755", isDirectory: null });
  assert.equal(fs.statSync(path.join(workDir, "bin", "run.sh")).mode & 0o777, 0o755);
  await call("fsWriteFile", { path: "bin/empty", content: null, permissions: null, isDirectory: null });
  assert.equal(fs.readFileSync(path.join(workDir, "bin", "empty"), "utf8"), "");
  await call("fsWriteFile", { path: "cache/data", isDirectory: true, content: null });
  assert.ok(fs.statSync(path.join(workDir, "cache", "data")).isDirectory());

  await call("fsDeleteFileOrDirectory", { path: "cache", isDirectory: true, recursive: true });
  assert.ok(!fs.existsSync(path.join(workDir, "cache")));
  await call("fsDeleteFileOrDirectory", { path: "bin/run.sh", isDirectory: false, recursive: null });
  assert.ok(!fs.existsSync(path.join(workDir, "bin", "run.sh")));
});

test("processExecute takes keepAlive", async () => {
  const out = await call("processExecute", {
    command: "echo alive", keepAlive: true, waitForCompletion: true, timeout: null, env: null, workingDir: null,
  });
  assert.equal(out.keepAlive, true);
  assert.equal(out.logs, "alive\n");
});

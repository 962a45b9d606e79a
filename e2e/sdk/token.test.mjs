// A daemon started with --token, driven by the SDK with the token in its
// headers: every path the SDK takes (plain JSON, the ndjson exec stream,
// the log stream, file reads and writes, the watch stream) must carry it,
// and an SDK without it is refused with 401.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { connectSdk, eventually, rejection, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";
import { watchArmed } from "./watching.mjs";

const token = "sdk-token-" + Math.random().toString(36).slice(2);
let daemon;
let sandbox;
let anonymous;

before(async () => {
  daemon = await startDaemon({ args: ["--token", token] });
  ({ sandbox } = await connectSdk(daemon.url, { headers: { Authorization: `Bearer ${token}` } }));
  ({ sandbox: anonymous } = await connectSdk(daemon.url));
});

after(async () => {
  if (daemon) await daemon.stop();
});

test("with the token in its headers, the SDK's calls go through", { timeout: TEST_TIMEOUT_MS }, async () => {
  const res = await sandbox.process.exec({ command: "echo authed", waitForCompletion: true });
  assert.equal(res.logs, "authed\n");

  const lines = [];
  const streamed = await sandbox.process.exec({
    command: "echo one; echo two",
    waitForCompletion: true,
    onLog: (l) => lines.push(l),
  });
  assert.equal(streamed.status, "completed");
  assert.equal(lines.join(""), "one\ntwo\n"); // frames carry the output as read

  const bg = await sandbox.process.exec({ name: "bg", command: "sleep 0.3; echo later" });
  const seen = [];
  const stream = sandbox.process.streamLogs(bg.name, { onLog: (l) => seen.push(l), onError: () => {} });
  assert.ok(await eventually(() => seen.includes("later")), `streamLogs saw ${JSON.stringify(seen)}`);
  stream.close();

  const path = `${daemon.workDir}/authed.txt`;
  await sandbox.fs.write(path, "secret content");
  assert.equal(await sandbox.fs.read(path), "secret content");

  // Armed once a probe file is reported, not after a while.
  const w = await watchArmed(sandbox, daemon.workDir, daemon.workDir);
  await sandbox.fs.write(`${daemon.workDir}/watched.txt`, "x");
  assert.ok(await eventually(() => w.events.some((e) => e.name === "watched.txt")),
    `watch saw ${JSON.stringify(w.events)}`);
  w.close();
});

test("without the token, the SDK is refused with 401", { timeout: TEST_TIMEOUT_MS }, async () => {
  const err = await rejection(anonymous.process.exec({ command: "echo no", waitForCompletion: true }), "exec without the token");
  assert.match(String(err.message), /401|bearer/i, err.message);
  const ferr = await rejection(anonymous.fs.read(`${daemon.workDir}/authed.txt`), "read without the token");
  assert.match(String(ferr.message), /401|bearer/i, ferr.message);
});

// The SDK's calls into Blaxel's own infrastructure (drives, codegen) have
// nothing to talk to in a standalone daemon: each must reject at once with
// HTTP 501 and a message saying so, not with a 404 that reads like a bug.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { connectSdk, rejection, startDaemon } from "./harness.mjs";

let daemon;
let sandbox;

before(async () => {
  daemon = await startDaemon();
  ({ sandbox } = await connectSdk(daemon.url));
});

after(async () => {
  if (daemon) await daemon.stop();
});

const calls = [
  ["drives.list", () => sandbox.drives.list()],
  ["drives.mount", () => sandbox.drives.mount({ driveName: "d", mountPath: "/mnt/d" })],
  ["drives.unmount", () => sandbox.drives.unmount("/mnt/d")],
  ["codegen.fastapply", () => sandbox.codegen.fastapply("/tmp/a.go", "// ... existing code ...")],
  ["codegen.reranking", () => sandbox.codegen.reranking("/tmp", "where is main")],
];

for (const [name, call] of calls) {
  test(`${name} rejects with 501 and the reason`, { timeout: 20_000 }, async () => {
    const err = await rejection(call(), name);
    assert.equal(err.status, 501, `${name}: ${err.message}`);
    assert.match(err.message, /not implemented by this daemon/, `${name}: ${err.message}`);
  });
}

// The SDK's calls into Blaxel's own infrastructure (drive mounts) have
// nothing to talk to in a standalone daemon: each must reject at once with
// HTTP 501 and a message saying so, not with a 404 that reads like a bug.
// Codegen has no provider to call: it rejects with the contract's 503 and
// the existing daemon's text. (drives.list() is in platform_wire.test.mjs.)

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { connectSdk, rejection, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";

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
  ["drives.mount", () => sandbox.drives.mount({ driveName: "d", mountPath: "/mnt/d" })],
  ["drives.unmount", () => sandbox.drives.unmount("/mnt/d")],
];

for (const [name, call] of calls) {
  test(`${name} rejects with 501 and the reason`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const err = await rejection(call(), name);
    assert.equal(err.status, 501, `${name}: ${err.message}`);
    assert.match(err.message, /not implemented by this daemon/, `${name}: ${err.message}`);
  });
}

const codegenCalls = [
  ["codegen.fastapply", () => sandbox.codegen.fastapply("/tmp/a.go", "// ... existing code ...")],
  ["codegen.reranking", () => sandbox.codegen.reranking("/tmp", "where is main")],
];

for (const [name, call] of codegenCalls) {
  test(`${name} rejects with 503 and the existing daemon's text`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const err = await rejection(call(), name);
    assert.equal(err.status, 503, `${name}: ${err.message}`);
    // The SDK 0.3.21 reads every 503 as its edge gateway's and replaces the
    // message; the daemon's reason is still in the body.
    assert.match(err.error?.error ?? "", /^codegen tools are not configured/, `${name}: ${err.message} ${JSON.stringify(err.error)}`);
  });
}

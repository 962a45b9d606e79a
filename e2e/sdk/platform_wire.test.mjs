// The SDK's network and drive helpers against the daemon's answers in the
// existing daemon's shape: ports items carry localPort (and the socket's
// owner), and drives.list() gets an empty list.

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";

import { connectSdk, freePort, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";

let daemon;
let sdk;
let sandbox;

before(async () => {
  daemon = await startDaemon();
  ({ sdk, sandbox } = await connectSdk(daemon.url));
});

after(async () => {
  if (daemon) await daemon.stop();
});

const T = { timeout: TEST_TIMEOUT_MS };

test("getNetworkProcessByPidPorts finds a listening port under localPort", T, async () => {
  const port = await freePort();
  const server = `require('http').createServer((q,s)=>s.end('ok')).listen(${port},'0.0.0.0')`;
  // A shell between the process and the listener: the port belongs to its
  // child, and is still the process's.
  const proc = await sandbox.process.exec({
    name: "ports-web",
    command: `'${process.execPath}' -e "${server}"; true`,
    waitForPorts: [port],
  });
  try {
    const { response, data } = await sdk.getNetworkProcessByPidPorts({
      client: sandbox.network.client,
      path: { pid: proc.pid },
    });
    assert.equal(response.status, 200);
    assert.equal(data.pid, Number(proc.pid), `pid is the number ${proc.pid}: ${JSON.stringify(data)}`);
    const item = data.ports.find((p) => p.localPort === port);
    assert.ok(item, `port ${port} not under localPort in ${JSON.stringify(data)}`);
    assert.equal(item.protocol, "tcp");
    assert.equal(item.localAddr, "0.0.0.0");
    assert.equal(item.state, "LISTEN");
    // The kernel's comm: the executable's name, cut to 15 bytes.
    assert.equal(item.processName, path.basename(process.execPath).slice(0, 15));
    assert.equal(typeof item.pid, "number");
    assert.notEqual(item.pid, Number(proc.pid), "the socket's owner is the node below the shell");

    const bad = await sdk.getNetworkProcessByPidPorts({ client: sandbox.network.client, path: { pid: "abc" } });
    assert.equal(bad.response.status, 400);
    assert.deepEqual(bad.error, { error: "invalid PID" });
  } finally {
    await sandbox.process.kill("ports-web").catch(() => {});
  }
});

test("drives.list() is an empty list", T, async () => {
  assert.deepEqual(await sandbox.drives.list(), []);
});

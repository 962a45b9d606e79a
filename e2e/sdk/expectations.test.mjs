// Behaviours where the daemon departs from a naive reading of the SDK, each
// pinned by a test: timeouts during a streamed exec, the interleaved `logs`
// field, and the output fields of records returned without waiting.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { connectSdk, eventually, rejection, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";

let daemon;
let proc;

before(async () => {
  daemon = await startDaemon();
  ({ sandbox: { process: proc } } = await connectSdk(daemon.url));
});

after(async () => {
  if (daemon) await daemon.stop();
});

async function cleanup(id) {
  try {
    await proc.kill(id);
  } catch {
    // already ended
  }
}

describe("edge cases the SDK meets", () => {
  test(
    "exec with wait, callbacks and a timeout that elapses gives the caller something usable",
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      // Without callbacks the same request rejects with HTTP 422 "process
      // timed out after 1 seconds" (it keeps running). With callbacks the
      // headers are gone by then; the SDK only understands a `result` frame.
      let res;
      let err;
      try {
        res = await proc.exec({
          name: "stream-timeout",
          command: "echo started; sleep 300", // far past the 1 s timeout, however slow the machine
          waitForCompletion: true,
          timeout: 1,
          onLog: () => {},
        });
      } catch (e) {
        err = e;
      } finally {
        await cleanup("stream-timeout");
      }
      if (err) {
        // Acceptable: a rejection that says what happened.
        assert.match(err.message, /timed out/i, `unhelpful rejection: ${err.message}`);
      } else {
        // Also acceptable: the record as it stands (still running).
        assert.equal(res.status, "running");
        assert.equal(res.name, "stream-timeout");
      }
    },
  );

  test(
    "logs 'all' keeps each line whole and agrees with streamLogs",
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      const bad = [];
      for (let i = 0; i < 10; i++) {
        const name = `splice-${i}`;
        await proc.exec({ name, command: "echo x; echo e >&2; printf last", waitForCompletion: true });
        const all = await proc.logs(name, "all");
        const streamed = [];
        await proc.streamLogs(name, { onLog: (l) => streamed.push(l) }).wait();
        const lines = all.split("\n").filter((l) => l !== "");
        if (JSON.stringify(lines) !== JSON.stringify(streamed)) bad.push({ all, streamed });
      }
      assert.deepEqual(bad, [], `logs 'all' disagrees with streamLogs in ${bad.length}/10 runs`);
    },
  );

  test(
    "records returned without waiting carry the existing daemon's output fields",
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      // As the existing daemon answers (issue 11): logs is null and
      // stdout/stderr are "" when the call did not wait. Callers read the
      // output with get or /logs; stop answers the record as get does.
      const res = await proc.exec({ name: "null-fields", command: "echo up; sleep 300" });
      try {
        assert.equal(res.logs, null, `exec (no wait): logs is ${JSON.stringify(res.logs)}`);
        assert.equal(res.stdout, "", `exec (no wait): stdout is ${JSON.stringify(res.stdout)}`);
        assert.equal(res.stderr, "", `exec (no wait): stderr is ${JSON.stringify(res.stderr)}`);
        assert.equal(res.exitCode, 0);
        assert.equal(res.workingDir, "");
        await eventually(async () => (await proc.get("null-fields")).stdout === "up\n");
        const stopped = await proc.stop("null-fields");
        assert.equal(stopped.status, "stopped");
        assert.equal(stopped.message, "Process stopped successfully");
        assert.equal(stopped.stdout, "up\n");
      } finally {
        await cleanup("null-fields");
      }
    },
  );
});

// The non-streaming timeout, for comparison with the streamed one above.
test("exec with wait and an elapsed timeout rejects with 422", { timeout: TEST_TIMEOUT_MS }, async () => {
  const err = await rejection(
    proc.exec({ name: "wait-timeout", command: "sleep 300", waitForCompletion: true, timeout: 1 }),
    "exec with an elapsed timeout",
  );
  try {
    assert.equal(err.status, 422, `expected 422, got ${err.status}: ${err.message}`);
    assert.match(err.message, /timed out/);
  } finally {
    await cleanup("wait-timeout");
  }
});

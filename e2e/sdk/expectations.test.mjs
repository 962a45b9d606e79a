// Behaviours where the daemon departs from a naive reading of the SDK, each
// pinned by a test: timeouts during a streamed exec, the interleaved `logs`
// field, and null output fields of records returned without waiting.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { connectSdk, rejection, startDaemon } from "./harness.mjs";

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
      timeout: 20_000,
    },
    async () => {
      // Without callbacks the same request rejects with HTTP 422 "process
      // timed out after 1s; the process keeps running". With callbacks the
      // headers are gone by then; the SDK only understands a `result` frame.
      let res;
      let err;
      try {
        res = await proc.exec({
          name: "stream-timeout",
          command: "echo started; sleep 5",
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
      timeout: 20_000,
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
    "records returned without waiting carry null output fields, as the issue specifies",
    { timeout: 20_000 },
    async () => {
      // A deliberate choice (README, Process API): logs/stdout/stderr are
      // JSON null when the call did not wait, so "no output yet" is not
      // mistaken for "no output". Callers read them with /logs.
      const res = await proc.exec({ name: "null-fields", command: "sleep 30" });
      try {
        for (const f of ["logs", "stdout", "stderr"]) {
          assert.equal(res[f], null, `exec (no wait): ${f} is ${JSON.stringify(res[f])}`);
        }
        const stopped = await proc.stop("null-fields");
        assert.equal(stopped.status, "stopped");
        for (const f of ["logs", "stdout", "stderr"]) {
          assert.equal(stopped[f], null, `stop: ${f} is ${JSON.stringify(stopped[f])}`);
        }
      } finally {
        await cleanup("null-fields");
      }
    },
  );
});

// The non-streaming timeout, for comparison with the streamed one above.
test("exec with wait and an elapsed timeout rejects with 422", { timeout: 20_000 }, async () => {
  const err = await rejection(
    proc.exec({ name: "wait-timeout", command: "sleep 5", waitForCompletion: true, timeout: 1 }),
    "exec with an elapsed timeout",
  );
  try {
    assert.equal(err.status, 422, `expected 422, got ${err.status}: ${err.message}`);
    assert.match(err.message, /timed out/);
  } finally {
    await cleanup("wait-timeout");
  }
});

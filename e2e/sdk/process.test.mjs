// End-to-end: the real @blaxel/core SDK (sandbox.process.*) drives the real
// sandbox-api binary. See harness.mjs for how both are set up.

import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  connectSdk,
  eventually,
  freePort,
  HANG_GUARD_MS,
  rejection,
  releaseSteps,
  startDaemon,
  TEST_TIMEOUT_MS,
} from "./harness.mjs";

let daemon;
let sandbox;
/** @type {import("@blaxel/core").SandboxProcess} */
let proc;

before(async () => {
  daemon = await startDaemon();
  ({ sandbox } = await connectSdk(daemon.url));
  proc = sandbox.process;
});

after(async () => {
  if (daemon) {
    const exited = daemon.exited();
    await daemon.stop();
    // A daemon that died during the run is a failure of its own.
    assert.equal(exited, null, `sandbox-api exited during the tests: ${JSON.stringify(exited)}`);
  }
});

const T = { timeout: TEST_TIMEOUT_MS };

function assertDate(value, field) {
  assert.equal(typeof value, "string", `${field} should be a string, got ${JSON.stringify(value)}`);
  assert.ok(!Number.isNaN(Date.parse(value)), `${field} does not parse as a date: ${JSON.stringify(value)}`);
  return Date.parse(value);
}

/** Ends a process left running by a failed test; ignores "already ended". */
async function cleanup(id) {
  try {
    await proc.kill(id);
  } catch {
    // gone or never started
  }
}

/** Collects the three SDK callbacks, with arrival times. */
function collector() {
  const c = { log: [], stdout: [], stderr: [], firstAt: null };
  const seen = () => {
    if (c.firstAt === null) c.firstAt = Date.now();
  };
  c.onLog = (l) => {
    seen();
    c.log.push(l);
  };
  c.onStdout = (l) => {
    seen();
    c.stdout.push(l);
  };
  c.onStderr = (l) => {
    seen();
    c.stderr.push(l);
  };
  return c;
}

describe("exec with waitForCompletion, no callbacks", () => {
  test("a succeeding command returns the full completed record", T, async () => {
    // The process waits on stdin between writes, and each step goes once
    // the daemon has the previous write: the interleaving is not up to timing.
    const command = "echo out1; read _; echo err1 >&2; read _; echo out2";
    const t0 = Date.now();
    const pending = proc.exec({ name: "exec-ok", command, stdin: true, waitForCompletion: true });
    await releaseSteps(proc, "exec-ok", ["out1\n", "out1\nerr1\n"]);
    const res = await pending;
    assert.equal(res.status, "completed");
    assert.equal(res.exitCode, 0);
    assert.equal(res.name, "exec-ok");
    assert.equal(res.command, command);
    assert.equal(res.stdout, "out1\nout2\n");
    assert.equal(res.stderr, "err1\n");
    assert.equal(res.logs, "out1\nerr1\nout2\n");
    assert.equal(typeof res.pid, "string", `pid should be a string, got ${typeof res.pid}`);
    assert.match(res.pid, /^[1-9][0-9]*$/);
    const started = assertDate(res.startedAt, "startedAt");
    const completed = assertDate(res.completedAt, "completedAt");
    assert.ok(completed >= started, `completedAt ${res.completedAt} is before startedAt ${res.startedAt}`);
    // Between the call and now (the wire time may drop the milliseconds).
    assert.ok(started >= t0 - 1000 && started <= Date.now(), `startedAt ${res.startedAt} is not now`);
    // The record echoes the request, as the existing daemon does: no
    // workingDir given, "" (the command ran in the daemon's own).
    assert.equal(res.workingDir, "");
  });

  test("workingDir and env are applied", T, async () => {
    const sub = path.join(daemon.workDir, "sub dir");
    fs.mkdirSync(sub, { recursive: true });
    const res = await proc.exec({
      command: 'pwd; printf "%s\\n" "$E2E_VAR"',
      workingDir: sub,
      env: { E2E_VAR: "value with spaces" },
      waitForCompletion: true,
    });
    assert.equal(res.status, "completed");
    assert.equal(res.stdout, `${fs.realpathSync(sub)}\nvalue with spaces\n`);
    assert.equal(res.workingDir, sub);
  });

  test("a failing command returns status failed with its exit code", T, async () => {
    const res = await proc.exec({
      name: "exec-fail",
      command: "echo before; echo boom >&2; exit 3",
      waitForCompletion: true,
    });
    assert.equal(res.status, "failed");
    assert.equal(res.exitCode, 3);
    assert.equal(res.stdout, "before\n");
    assert.equal(res.stderr, "boom\n");
    assertDate(res.completedAt, "completedAt");
  });
});

describe("exec with waitForCompletion and callbacks (ndjson stream)", () => {
  test("callbacks get each line in order, live, and the result has the full output", T, async () => {
    const c = collector();
    // The process waits on stdin after line1 and after line5; the test
    // writes only once the callbacks got them. Streamed as it ran, not
    // replayed at the end (the SDK's non-ndjson fallback would call every
    // callback just before resolving): a replay would never release the
    // process, and the hang guard would fail the test.
    const pending = proc.exec({
      name: "exec-stream",
      command: "echo line1; read _; for i in 2 3 4 5; do echo line$i; done; read _; echo oops >&2",
      stdin: true,
      waitForCompletion: true,
      onLog: c.onLog,
      onStdout: c.onStdout,
      onStderr: c.onStderr,
    });
    for (const want of ["line1\n", "line1\nline2\nline3\nline4\nline5\n"]) {
      assert.ok(await eventually(() => c.stdout.join("") === want), `onStdout got ${JSON.stringify(c.stdout)}, want ${JSON.stringify(want)}`);
      await proc.writeStdin("exec-stream", "\n");
    }
    const res = await pending;
    // Each callback gets the bytes as read, newlines included: joined, they
    // are the output (process_wire.test.mjs covers the framing).
    assert.equal(c.stdout.join(""), "line1\nline2\nline3\nline4\nline5\n");
    assert.equal(c.stderr.join(""), "oops\n");
    assert.equal(c.log.join(""), "line1\nline2\nline3\nline4\nline5\noops\n");
    assert.equal(res.status, "completed");
    assert.equal(res.exitCode, 0);
    assert.equal(res.name, "exec-stream");
    assert.equal(typeof res.pid, "string");
    assert.equal(res.stdout, "line1\nline2\nline3\nline4\nline5\n");
    assert.equal(res.stderr, "oops\n");
    assert.equal(typeof res.close, "function");
    assertDate(res.startedAt, "startedAt");
    assertDate(res.completedAt, "completedAt");
  });

  test("keepalives are skipped, a last line without newline is delivered, a failure is reported", T, async () => {
    // 1.3 s of silence outlasts the daemon's 1 s keepalive interval.
    const c = collector();
    const res = await proc.exec({
      command: "echo a; sleep 1.3; printf 'no-newline'; exit 2",
      waitForCompletion: true,
      onStdout: c.onStdout,
    });
    assert.equal(c.stdout.join(""), "a\nno-newline");
    assert.equal(res.status, "failed");
    assert.equal(res.exitCode, 2);
    assert.equal(res.stdout, "a\nno-newline");
  });
});

describe("exec without waiting, with onLog (logs/stream)", () => {
  test("returns while running; lines arrive; process.wait sees the end", T, async () => {
    const c = collector();
    // The process prints nothing until the test writes to its stdin: exec
    // returning at all shows it did not wait for the process.
    const res = await proc.exec({
      name: "nowait",
      command: "read _; for i in 1 2 3; do echo s$i; sleep 0.1; done",
      stdin: true,
      onLog: c.onLog,
    });
    try {
      assert.equal(res.status, "running");
      assert.equal(res.name, "nowait");
      assert.equal(typeof res.close, "function");
      await proc.writeStdin("nowait", "\n");
      const done = await proc.wait("nowait", { maxWait: HANG_GUARD_MS, interval: 200 });
      assert.equal(done.status, "completed");
      assert.equal(done.exitCode, 0);
      // The stream is independent of the polling: it drains on its own.
      await eventually(() => c.log.length >= 3);
      assert.deepEqual(c.log, ["s1", "s2", "s3"]);
    } finally {
      res.close();
    }
  });
});

describe("get, list and logs", () => {
  let rec;
  before(async () => {
    // In steps, so that the interleaving is not up to timing.
    const pending = proc.exec({
      name: "logs-proc",
      command: "echo o1; read _; echo e1 >&2; read _; echo o2; read _; echo e2 >&2",
      stdin: true,
      waitForCompletion: true,
    });
    await releaseSteps(proc, "logs-proc", ["o1\n", "o1\ne1\n", "o1\ne1\no2\n"]);
    rec = await pending;
  });

  test("get by name and by pid", T, async () => {
    const byName = await proc.get("logs-proc");
    assert.equal(byName.pid, rec.pid);
    assert.equal(byName.name, "logs-proc");
    assert.equal(byName.status, "completed");
    assert.equal(byName.exitCode, 0);
    const byPid = await proc.get(rec.pid);
    assert.equal(byPid.name, "logs-proc");
    assert.equal(byPid.pid, rec.pid);
    assert.equal(byPid.status, "completed");
    assert.equal(byPid.startedAt, rec.startedAt);
  });

  test("list contains it", T, async () => {
    const all = await proc.list();
    assert.ok(Array.isArray(all), "list() should return an array");
    const found = all.filter((p) => p.pid === rec.pid);
    assert.equal(found.length, 1, `list() has ${found.length} entries with pid ${rec.pid}`);
    assert.equal(found[0].name, "logs-proc");
    assert.equal(found[0].status, "completed");
    assert.ok(all.some((p) => p.name === "exec-ok"), "list() lost an earlier process");
  });

  test("logs all | stdout | stderr, all interleaved in write order", T, async () => {
    assert.equal(await proc.logs("logs-proc", "all"), "o1\ne1\no2\ne2\n");
    assert.equal(await proc.logs("logs-proc"), "o1\ne1\no2\ne2\n");
    assert.equal(await proc.logs("logs-proc", "stdout"), "o1\no2\n");
    assert.equal(await proc.logs("logs-proc", "stderr"), "e1\ne2\n");
    assert.equal(await proc.logs(rec.pid, "stdout"), "o1\no2\n");
  });
});

describe("streamLogs", () => {
  // The 1.3 s pause outlasts the daemon's 1 s keepalive: a keepalive line
  // goes by, which the SDK must recognise and drop. The process then waits
  // on stdin, released once the stream has rerr, so that the order of
  // stderr and stdout is not up to timing.
  const command =
    "for i in 1 2 3; do echo r$i; sleep 0.2; done; sleep 1.3; echo rerr >&2; read _; printf 'tail-no-newline'";
  const expected = {
    stdout: ["r1", "r2", "r3", "tail-no-newline"],
    stderr: ["rerr"],
    log: ["r1", "r2", "r3", "rerr", "tail-no-newline"],
  };

  test("on a running process: live lines, keepalives skipped, ends with the process", T, async () => {
    await proc.exec({ name: "streamed", command, stdin: true });
    try {
      const c = collector();
      const errors = [];
      const handle = proc.streamLogs("streamed", {
        onLog: c.onLog,
        onStdout: c.onStdout,
        onStderr: (l) => {
          c.onStderr(l);
          if (l === "rerr") proc.writeStdin("streamed", "\n").catch((e) => errors.push(e));
        },
        onError: (e) => errors.push(e),
      });
      await handle.wait();
      const endedAt = Date.now();
      assert.deepEqual(errors, []);
      assert.deepEqual(c.stdout, expected.stdout);
      assert.deepEqual(c.stderr, expected.stderr);
      assert.deepEqual(c.log, expected.log);
      assert.ok(endedAt - c.firstAt >= 1000, `first line came only ${endedAt - c.firstAt} ms before the end`);
      const rec = await proc.get("streamed");
      assert.equal(rec.status, "completed", "the stream ended before the process did");
    } finally {
      await cleanup("streamed");
    }
  });

  test("on an ended process: everything, then the stream ends", T, async () => {
    const rec = await proc.get("streamed");
    assert.equal(rec.status, "completed");
    const c = collector();
    const errors = [];
    // It ends by itself (a stream that stayed open would only ever send
    // keepalives, and the hang guard would fail the test).
    const handle = proc.streamLogs(rec.pid, {
      onLog: c.onLog,
      onStdout: c.onStdout,
      onStderr: c.onStderr,
      onError: (e) => errors.push(e),
    });
    await handle.wait();
    assert.deepEqual(errors, []);
    assert.deepEqual(c.stdout, expected.stdout);
    assert.deepEqual(c.stderr, expected.stderr);
    assert.deepEqual(c.log, expected.log);
  });

  test("of an unknown process reports the error through onError", T, async () => {
    const errors = [];
    const c = collector();
    await proc.streamLogs("no-such-process-e2e", { onLog: c.onLog, onError: (e) => errors.push(e) }).wait();
    assert.equal(errors.length, 1);
    assert.match(errors[0].message, /Failed to stream logs/);
    assert.deepEqual(c.log, []);
  });
});

describe("stop and kill", () => {
  test("stop of sleep 100 leaves status stopped", T, async () => {
    const res = await proc.exec({ name: "stopme", command: "sleep 100" });
    try {
      assert.equal(res.status, "running");
      await proc.stop("stopme");
      const rec = await proc.get("stopme");
      assert.equal(rec.status, "stopped");
      assertDate(rec.completedAt, "completedAt");
    } finally {
      await cleanup("stopme");
    }
  });

  test("kill of sleep 100 leaves status killed", T, async () => {
    const res = await proc.exec({ name: "killme", command: "sleep 100" });
    try {
      assert.equal(res.status, "running");
      await proc.kill(res.pid);
      const rec = await proc.get("killme");
      assert.equal(rec.status, "killed");
      assertDate(rec.completedAt, "completedAt");
    } finally {
      await cleanup("killme");
    }
  });
});

describe("restarts", () => {
  test("restartOnFailure with maxRestarts 2 runs three times then fails", T, async () => {
    const res = await proc.exec({
      name: "restarter",
      command: "echo attempt; exit 1",
      restartOnFailure: true,
      maxRestarts: 2,
    });
    assert.equal(res.restartOnFailure, true);
    assert.equal(res.maxRestarts, 2);
    const done = await proc.wait("restarter", { maxWait: HANG_GUARD_MS, interval: 100 });
    assert.equal(done.status, "failed");
    assert.equal(done.exitCode, 1);
    assert.equal(done.restartCount, 2);
    assert.equal(done.pid, res.pid, "restarts keep the process record");
    const logs = await proc.logs("restarter", "all");
    assert.ok(logs.includes("Attempting restart 1/2"), `no "Attempting restart 1/2" in logs: ${JSON.stringify(logs)}`);
    assert.ok(logs.includes("Attempting restart 2/2"), `no "Attempting restart 2/2" in logs: ${JSON.stringify(logs)}`);
    assert.ok(!logs.includes("Attempting restart 3/2"), `a third restart: ${JSON.stringify(logs)}`);
    assert.equal(logs.match(/^attempt$/gm)?.length ?? 0, 3, `expected three attempt lines: ${JSON.stringify(logs)}`);
    const stdout = await proc.logs("restarter", "stdout");
    assert.equal(stdout.match(/^attempt$/gm)?.length ?? 0, 3, `expected three attempt lines on stdout: ${JSON.stringify(stdout)}`);
  });
});

function httpGet(port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.setTimeout(HANG_GUARD_MS, () => req.destroy(new Error("timeout")));
  });
}

describe("waitForPorts", () => {
  test("exec resolves only once the port listens (127.0.0.1 only)", T, async () => {
    const port = await freePort();
    const server = `require('http').createServer((q,s)=>s.end('hello-e2e')).listen(${port},'127.0.0.1')`;
    const t0 = Date.now();
    const res = await proc.exec({
      name: "web",
      command: `sleep 0.7; exec '${process.execPath}' -e "${server}"`,
      waitForPorts: [port],
      timeout: HANG_GUARD_MS / 1000, // the wait for the port: a hang guard
    });
    const elapsed = Date.now() - t0;
    try {
      assert.ok(elapsed >= 600, `exec resolved after ${elapsed} ms, before the server could listen`);
      assert.equal(res.status, "running");
      // One attempt, no retry: the port must be open by now.
      const got = await httpGet(port);
      assert.equal(got.status, 200);
      assert.equal(got.body, "hello-e2e");
    } finally {
      await cleanup("web");
    }
  });

  test("a port that never opens rejects after the timeout", T, async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await rejection(
      proc.exec({ name: "noport", command: "sleep 300", waitForPorts: [port], timeout: 2 }),
      "exec with a port that never opens",
    );
    const elapsed = Date.now() - t0;
    try {
      assert.equal(err.status, 422, `expected HTTP 422, got ${err.status}: ${err.message}`);
      assert.match(err.message, new RegExp(String(port)), "the error should name the port");
      assert.ok(elapsed >= 1800, `rejected after ${elapsed} ms, before the 2 s timeout`);
    } finally {
      await cleanup("noport");
    }
  });
});

describe("stdin", () => {
  test("writeStdin twice, closeStdin, the output is both writes in order", T, async () => {
    const res = await proc.exec({ name: "catter", command: "cat", stdin: true });
    try {
      assert.equal(res.status, "running");
      await proc.writeStdin("catter", "hello\n");
      await proc.writeStdin("catter", "world");
      await proc.closeStdin("catter");
      const done = await proc.wait("catter", { maxWait: HANG_GUARD_MS, interval: 100 });
      assert.equal(done.status, "completed");
      assert.equal(done.exitCode, 0);
      assert.equal(done.stdout, "hello\nworld");
      assert.equal(await proc.logs("catter", "stdout"), "hello\nworld");
      // Closing is idempotent (the SDK documents it so), even after the end;
      // writing after the close is refused.
      await proc.closeStdin("catter");
      const err = await rejection(proc.writeStdin("catter", "late\n"), "writeStdin after closeStdin");
      assert.ok(err.status >= 400 && err.status < 500, `expected a 4xx, got ${err.status}: ${err.message}`);
    } finally {
      await cleanup("catter");
    }
  });

  test("writing to a process without stdin rejects", T, async () => {
    const res = await proc.exec({ name: "nostdin", command: "sleep 300" });
    try {
      const err = await rejection(proc.writeStdin("nostdin", "x\n"), "writeStdin without stdin");
      assert.ok(err.status >= 400 && err.status < 500, `expected a 4xx, got ${err.status}: ${err.message}`);
      const err2 = await rejection(proc.closeStdin(res.pid), "closeStdin without stdin");
      assert.ok(err2.status >= 400 && err2.status < 500, `expected a 4xx, got ${err2.status}: ${err2.message}`);
      assert.equal((await proc.get("nostdin")).status, "running");
    } finally {
      await cleanup("nostdin");
    }
  });
});

describe("errors", () => {
  const missing = "/nonexistent-e2e-dir/sub";

  test("a missing working dir rejects with a message naming it", T, async () => {
    const err = await rejection(
      proc.exec({ command: "true", workingDir: missing, waitForCompletion: true }),
      "exec in a missing folder",
    );
    assert.ok(err.message.includes(missing), `message does not name ${missing}: ${err.message}`);
    assert.ok(err.status >= 400 && err.status < 500, `expected a 4xx, got ${err.status}`);
  });

  test("a missing working dir rejects on the streaming path too", T, async () => {
    const c = collector();
    const err = await rejection(
      proc.exec({ command: "true", workingDir: missing, waitForCompletion: true, onLog: c.onLog }),
      "streamed exec in a missing folder",
    );
    assert.ok(err.message.includes(missing), `message does not name ${missing}: ${err.message}`);
    assert.deepEqual(c.log, []);
  });

  test("a duplicate running name rejects", T, async () => {
    const first = await proc.exec({ name: "dup", command: "sleep 300" });
    try {
      const err = await rejection(proc.exec({ name: "dup", command: "echo second" }), "duplicate name");
      assert.ok(err.status >= 400 && err.status < 500, `expected a 4xx, got ${err.status}: ${err.message}`);
      assert.match(err.message, /dup/);
      const err2 = await rejection(
        proc.exec({ name: "dup", command: "echo second", waitForCompletion: true, onLog: () => {} }),
        "duplicate name, streaming",
      );
      assert.match(err2.message, /dup/);
      const rec = await proc.get("dup");
      assert.equal(rec.pid, first.pid, "the running process should still own the name");
      assert.equal(rec.status, "running");
    } finally {
      await cleanup("dup");
    }
  });

  test("get of an unknown name rejects with 404", T, async () => {
    const err = await rejection(proc.get("no-such-process-e2e"), "get unknown");
    assert.equal(err.status, 404, `expected 404, got ${err.status}: ${err.message}`);
  });
});

describe("name reuse", () => {
  test("after a named process ended, the name can be used again", T, async () => {
    const first = await proc.exec({ name: "reuse", command: "echo first", waitForCompletion: true });
    assert.equal(first.status, "completed");
    const second = await proc.exec({ name: "reuse", command: "echo second", waitForCompletion: true });
    assert.equal(second.status, "completed");
    assert.notEqual(second.pid, first.pid);
    const got = await proc.get("reuse");
    assert.equal(got.pid, second.pid);
    assert.equal(got.stdout, "second\n");
    assert.equal(await proc.logs("reuse", "stdout"), "second\n");
    // The old record stays reachable by its pid.
    const old = await proc.get(first.pid);
    assert.equal(old.stdout, "first\n");
  });
});

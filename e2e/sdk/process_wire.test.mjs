// End-to-end: what the SDK's exec callbacks (onStdout, onStderr, onLog) get
// from a streamed exec. Each frame carries the output as read, newlines
// included, so joining a callback's arguments gives the output byte for
// byte (issue 11). See harness.mjs for how the SDK and daemon are set up.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { connectSdk, eventually, startDaemon, TEST_TIMEOUT_MS } from "./harness.mjs";

let daemon;
/** @type {import("@blaxel/core").SandboxProcess} */
let proc;

before(async () => {
  daemon = await startDaemon();
  ({ sandbox: { process: proc } } = await connectSdk(daemon.url));
});

after(async () => {
  if (daemon) await daemon.stop();
});

const T = { timeout: TEST_TIMEOUT_MS };

/** Runs command as a streamed exec and returns what each callback got. */
async function streamed(command, extra = {}) {
  const got = { stdout: [], stderr: [], log: [] };
  const res = await proc.exec({
    command,
    waitForCompletion: true,
    onStdout: (d) => got.stdout.push(d),
    onStderr: (d) => got.stderr.push(d),
    onLog: (d) => got.log.push(d),
    ...extra,
  });
  return { res, got };
}

describe("exec callbacks joined are the output, byte for byte", () => {
  const cases = [
    { name: "lines", command: "echo o1; echo o2", stdout: "o1\no2\n" },
    {
      name: "partial lines, no final newline",
      command: "printf 'a\\nbb\\n'; sleep 0.2; printf ccc; printf tail",
      stdout: "a\nbb\nccctail",
    },
    { name: "empty lines", command: "printf '\\n\\nx\\n\\n'; echo", stdout: "\n\nx\n\n\n" },
    { name: "stderr only", command: "printf 'e1\\n\\npartial' >&2", stderr: "e1\n\npartial" },
    {
      name: "a character split across writes",
      command: "printf 'caf\\303'; sleep 0.2; printf '\\251\\n'",
      stdout: "café\n",
    },
  ];
  for (const c of cases) {
    test(c.name, T, async () => {
      const { res, got } = await streamed(c.command);
      const stdout = c.stdout ?? "";
      const stderr = c.stderr ?? "";
      assert.equal(got.stdout.join(""), stdout, `onStdout got ${JSON.stringify(got.stdout)}`);
      assert.equal(got.stderr.join(""), stderr, `onStderr got ${JSON.stringify(got.stderr)}`);
      assert.equal(got.log.join(""), stdout + stderr, `onLog got ${JSON.stringify(got.log)}`);
      assert.ok(!got.log.join("").includes("\ufffd") || stdout.includes("\ufffd"), "a frame cut a character");
      assert.equal(res.status, "completed");
      assert.equal(res.stdout, stdout);
      assert.equal(res.stderr, stderr);
    });
  }

  test("interleaved stdout and stderr, in the order written", T, async () => {
    // The process waits on stdin between writes, so the order does not
    // depend on timing.
    const got = { stdout: [], stderr: [], log: [] };
    const done = proc.exec({
      name: "interleaved",
      command: "printf 'o1\\n'; read a; printf 'e1\\n' >&2; read b; printf o2; read c; printf 'e2' >&2",
      stdin: true,
      waitForCompletion: true,
      onStdout: (d) => got.stdout.push(d),
      onStderr: (d) => got.stderr.push(d),
      onLog: (d) => got.log.push(d),
    });
    const step = async (want, input) => {
      const ok = await eventually(() => got.log.join("") === want);
      assert.ok(ok, `onLog joined ${JSON.stringify(got.log.join(""))}, want ${JSON.stringify(want)}`);
      if (input) await proc.writeStdin("interleaved", input);
    };
    await step("o1\n", "x\n");
    await step("o1\ne1\n", "y\n");
    await step("o1\ne1\no2", "z\n"); // a partial line comes at once
    const res = await done;
    assert.equal(got.log.join(""), "o1\ne1\no2e2");
    assert.equal(got.stdout.join(""), "o1\no2");
    assert.equal(got.stderr.join(""), "e1\ne2");
    assert.equal(res.status, "completed");
  });

  test("a few MB of output", T, async () => {
    const n = 500_000;
    let want = "";
    for (let i = 1; i <= n; i++) want += `${i}\n`;
    const { res, got } = await streamed(`seq 1 ${n}; echo done >&2`);
    const joined = got.stdout.join("");
    assert.equal(joined.length, want.length, `onStdout joined to ${joined.length} chars, want ${want.length}`);
    assert.ok(joined === want, "onStdout joined differs from the output");
    assert.equal(got.stderr.join(""), "done\n");
    assert.ok(got.stdout.length > 1, "a few MB came in one frame: frames are not bounded");
    assert.equal(res.status, "completed");
  });
});

// Shared setup of the SDK end-to-end tests: starts the real sandbox-api
// binary on a free loopback port and builds a @blaxel/core SandboxInstance
// pointed at it, the way SDK-WIRE.md describes a local daemon.
//
// Environment:
//   SANDBOX_API_BIN  path of the daemon binary (default ../../bin/sandbox-api,
//                    relative to this folder)
//   E2E_KEEP_TMP=1   keep the temp folder (daemon log, process logs) after the run

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The hang guard: the one bound on every wait of the end-to-end tests for an
 * event (the daemon's /health, a process ending, a line, a watch event, a
 * page element). It only turns a hang into a failure; no test asserts that
 * something happens within a time. It is minutes long because the tests run
 * beside other work on small machines (`make test` passes with two
 * CPU-bound loops beside it on 2 cores). A test that must show that
 * something did NOT happen makes a second, known change after the act and
 * waits for that one (a sentinel) instead of waiting a while.
 */
export const HANG_GUARD_MS = 180_000;

/** node:test's bound on a whole test, which waits for several events. */
export const TEST_TIMEOUT_MS = 4 * HANG_GUARD_MS;

export const binPath = process.env.SANDBOX_API_BIN
  ? path.resolve(process.env.SANDBOX_API_BIN)
  : path.resolve(here, "../../bin/sandbox-api");

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls fn until it returns a truthy value, and returns it; after ms (the
 * hang guard) it returns the last falsy value, for the caller to fail on.
 */
export async function eventually(fn, { ms = HANG_GUARD_MS, every = 50 } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) return v;
    await sleep(every);
  }
}

async function healthy(url) {
  try {
    const res = await fetch(`${url}/health`);
    if (!res.ok) return false;
    const body = await res.json();
    return body.status === "ok";
  } catch {
    return false;
  }
}

/**
 * Starts the daemon, with extra flags in args (and, with isolatedHome, an
 * empty HOME of its own). Returns { url, port, workDir, tmp, logText(), stop() }.
 * workDir is the daemon's working directory, hence the default workingDir
 * of the processes it starts.
 */
export async function startDaemon({ args = [], isolatedHome = false } = {}) {
  if (!fs.existsSync(binPath)) {
    throw new Error(
      `sandbox-api binary not found at ${binPath}: build it (go build -o bin/sandbox-api ./cmd/sandbox-api) or set SANDBOX_API_BIN`,
    );
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-api-e2e-"));
  const logDir = path.join(tmp, "logs");
  const workDir = path.join(tmp, "work");
  fs.mkdirSync(workDir);
  const daemonLog = path.join(tmp, "daemon.log");
  // An empty HOME keeps the machine's dotfiles (a slow or locking .bashrc)
  // out of the shells the daemon starts.
  const env = { ...process.env };
  // A temp dir of its own: the daemon's default upload and write-journal
  // folders go in it, and with it when the test ends.
  env.TMPDIR = path.join(tmp, "tmp");
  fs.mkdirSync(env.TMPDIR);
  if (isolatedHome) {
    env.HOME = path.join(tmp, "home");
    fs.mkdirSync(env.HOME);
  }

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const out = fs.openSync(daemonLog, "a");
    const child = spawn(
      binPath,
      ["-p", String(port), "--host", "127.0.0.1", "--log-dir", logDir, "--keepalive", "1s", ...args],
      { cwd: workDir, env, stdio: ["ignore", out, out] },
    );
    fs.closeSync(out);
    let exited = null;
    const exitP = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        exited = { code, signal };
        resolve(exited);
      }),
    );
    // Last resort if the test process dies without running its hooks.
    const onExit = () => {
      if (!exited) child.kill("SIGKILL");
    };
    process.on("exit", onExit);

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + HANG_GUARD_MS;
    let up = false;
    while (!exited && Date.now() < deadline) {
      if (await healthy(url)) {
        up = true;
        break;
      }
      await sleep(50);
    }
    const logText = () => {
      try {
        return fs.readFileSync(daemonLog, "utf8");
      } catch {
        return "";
      }
    };
    if (!up) {
      process.off("exit", onExit);
      if (!exited) {
        child.kill("SIGKILL");
        await exitP;
      }
      // The port may have been taken between freePort and the bind.
      if (attempt < 3 && /address already in use/i.test(logText())) continue;
      throw new Error(`sandbox-api did not become healthy on ${url}; its output:\n${logText()}`);
    }

    const stop = async () => {
      process.off("exit", onExit);
      if (!exited) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), HANG_GUARD_MS);
        await exitP;
        clearTimeout(timer);
      }
      if (process.env.E2E_KEEP_TMP) {
        console.error(`sandbox-api e2e: temp folder kept at ${tmp}`);
      } else {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      return exited;
    };
    return { url, port, tmp, workDir, logText, stop, exited: () => exited };
  }
}

/**
 * Imports @blaxel/core the way a user would, but from a folder without
 * .env or blaxel.toml (the SDK reads both from the cwd at import), with
 * dummy credentials, and returns a SandboxInstance bound to url that sends
 * headers with its requests (e.g. the daemon's bearer token).
 */
export async function connectSdk(url, { headers = {} } = {}) {
  process.env.BL_WORKSPACE = "e2e-workspace";
  process.env.BL_API_KEY = "e2e-dummy-key";
  process.env.DO_NOT_TRACK = "1";
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-api-e2e-cwd-"));
  const prev = process.cwd();
  process.chdir(cwd);
  let sdk;
  try {
    sdk = await import("@blaxel/core");
  } finally {
    process.chdir(prev);
    fs.rmSync(cwd, { recursive: true, force: true });
  }
  const sandbox = new sdk.SandboxInstance({
    metadata: { name: "e2e" },
    spec: {},
    forceUrl: url,
    headers,
  });
  return { sdk, sandbox };
}

/**
 * Lets a process go step by step. Its command waits on stdin between its
 * writes (`read _`); for each expected output (the whole interleaved log so
 * far), this waits until the daemon has it, then writes a line to stdin.
 * The order of stdout and stderr is then not up to timing. The process may
 * be started with or without waiting for it (the call's promise is awaited
 * by the caller afterwards).
 */
export async function releaseSteps(proc, name, outputs) {
  for (const want of outputs) {
    let have;
    const ok = await eventually(async () => {
      have = await proc.logs(name, "all").catch((err) => `(${err.message})`);
      return have === want;
    });
    if (!ok) throw new Error(`process ${name}: output ${JSON.stringify(have)}, never ${JSON.stringify(want)}`);
    await proc.writeStdin(name, "\n");
  }
}

/** Awaits a promise that must reject; returns the error. */
export async function rejection(promise, what) {
  try {
    const v = await promise;
    throw Object.assign(new Error(`${what}: expected a rejection, got ${JSON.stringify(v)}`), {
      unexpectedResolve: true,
    });
  } catch (err) {
    if (err && err.unexpectedResolve) throw err;
    return err;
  }
}

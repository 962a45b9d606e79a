// Shared setup of the MCP end-to-end tests: starts the real sandbox-api
// binary on a free loopback port and connects the official TypeScript
// @modelcontextprotocol/sdk client (pinned in package.json) to its /mcp
// endpoint over streamable HTTP.
//
// Environment:
//   SANDBOX_API_BIN  path of the daemon binary (default ../../bin/sandbox-api)

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The hang guard: the one bound on every wait of these tests for an event
 * (the daemon's /health, an answer to a request). It only turns a hang into
 * a failure; no test asserts that something happens within a time. Minutes,
 * because the tests run beside other work on small machines.
 */
export const HANG_GUARD_MS = 180_000;

/**
 * The options of every MCP request: the client's own default timeout (60 s)
 * gives way to the hang guard.
 */
export const REQUEST = { timeout: HANG_GUARD_MS };
const binPath = process.env.SANDBOX_API_BIN
  ? path.resolve(process.env.SANDBOX_API_BIN)
  : path.resolve(here, "../../bin/sandbox-api");

function freePort() {
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the daemon in a fresh working directory and connects a client.
 * Returns { url, workDir, client, stop() }.
 */
export async function startDaemonWithClient() {
  if (!fs.existsSync(binPath)) {
    throw new Error(`sandbox-api binary not found at ${binPath}: build it or set SANDBOX_API_BIN`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-api-e2e-mcp-"));
  const workDir = path.join(tmp, "work");
  fs.mkdirSync(workDir);
  const port = await freePort();
  const out = fs.openSync(path.join(tmp, "daemon.log"), "a");
  const child = spawn(binPath, ["-p", String(port), "--host", "127.0.0.1", "--log-dir", path.join(tmp, "logs")], {
    cwd: workDir,
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  const exitP = new Promise((resolve) => child.on("exit", resolve));
  const onExit = () => child.kill("SIGKILL");
  process.on("exit", onExit);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + HANG_GUARD_MS;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) {
      throw new Error(`daemon not healthy:\n${fs.readFileSync(path.join(tmp, "daemon.log"), "utf8")}`);
    }
    await sleep(50);
  }
  const client = new Client({ name: "sandbox-api-e2e", version: "0.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)), REQUEST);

  const stop = async () => {
    await client.close().catch(() => {});
    process.off("exit", onExit);
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), HANG_GUARD_MS);
      await exitP;
      clearTimeout(timer);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  return { url, workDir, client, stop };
}

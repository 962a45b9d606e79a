// End-to-end test of the /mcp endpoint with a client nobody here wrote: the
// official TypeScript @modelcontextprotocol/sdk (pinned in package.json),
// over streamable HTTP, against the real sandbox-api binary.
//
// Environment:
//   SANDBOX_API_BIN  path of the daemon binary (default ../../bin/sandbox-api)

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const here = path.dirname(fileURLToPath(import.meta.url));
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

let tmp, workDir, child, exitP, url, client;

before(async () => {
  assert.ok(fs.existsSync(binPath), `sandbox-api binary not found at ${binPath}: build it or set SANDBOX_API_BIN`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-api-e2e-mcp-"));
  workDir = path.join(tmp, "work");
  fs.mkdirSync(workDir);
  const port = await freePort();
  const out = fs.openSync(path.join(tmp, "daemon.log"), "a");
  child = spawn(binPath, ["-p", String(port), "--host", "127.0.0.1", "--log-dir", path.join(tmp, "logs")], {
    cwd: workDir,
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  exitP = new Promise((resolve) => child.on("exit", resolve));
  process.on("exit", () => child.kill("SIGKILL"));
  url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {}
    if (Date.now() > deadline) {
      throw new Error(`daemon not healthy:\n${fs.readFileSync(path.join(tmp, "daemon.log"), "utf8")}`);
    }
    await sleep(50);
  }
  client = new Client({ name: "sandbox-api-e2e", version: "0.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
});

after(async () => {
  await client?.close().catch(() => {});
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exitP;
    clearTimeout(timer);
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("lists every tool with a described input schema", async () => {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  for (const want of [
    "processesList", "processExecute", "processGet", "processGetLogs", "processStop", "processKill",
    "fsGetWorkingDirectory", "fsListDirectory", "fsReadFile", "fsWriteFile", "fsEditFile", "fsDeleteFileOrDirectory",
    "codegenFileSearch", "codegenGrepSearch", "codegenReadFileRange", "codegenListDir",
  ]) {
    assert.ok(names.includes(want), `tool ${want} missing from ${names}`);
  }
  const exec = tools.find((t) => t.name === "processExecute");
  assert.ok(exec.description.length > 20);
  assert.equal(exec.inputSchema.type, "object");
  assert.deepEqual(exec.inputSchema.required, ["command"]);
  assert.ok(exec.inputSchema.properties.command.description);
  assert.ok(exec.outputSchema, "processExecute has an output schema");
});

test("processExecute runs a command and returns its output", async () => {
  const res = await client.callTool({
    name: "processExecute",
    arguments: { command: "echo hello from mcp; pwd", waitForCompletion: true },
  });
  assert.ok(!res.isError, JSON.stringify(res));
  assert.equal(res.structuredContent.status, "completed");
  assert.equal(res.structuredContent.exitCode, 0);
  assert.equal(res.structuredContent.logs, `hello from mcp\n${fs.realpathSync(workDir)}\n`);
});

test("fsReadFile reads a file the daemon sees", async () => {
  fs.writeFileSync(path.join(workDir, "note.txt"), "written by the test\n");
  const res = await client.callTool({ name: "fsReadFile", arguments: { path: "note.txt" } });
  assert.ok(!res.isError, JSON.stringify(res));
  assert.equal(res.structuredContent.content, "written by the test\n");
  assert.equal(res.structuredContent.truncated, false);
});

test("a failing tool is a tool error, not a protocol failure", async () => {
  const res = await client.callTool({ name: "fsReadFile", arguments: { path: "missing.txt" } });
  assert.equal(res.isError, true);
  assert.match(res.content[0].text, /missing\.txt/);
});

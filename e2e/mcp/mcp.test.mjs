// End-to-end test of the /mcp endpoint with a client nobody here wrote: the
// official TypeScript @modelcontextprotocol/sdk (pinned in package.json),
// over streamable HTTP, against the real sandbox-api binary (harness.mjs).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { REQUEST, startDaemonWithClient } from "./harness.mjs";

let daemon, workDir, client;

before(async () => {
  daemon = await startDaemonWithClient();
  ({ workDir, client } = daemon);
});

after(async () => {
  await daemon?.stop();
});

test("lists every tool with a described input schema", async () => {
  const { tools } = await client.listTools(undefined, REQUEST);
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
  }, undefined, REQUEST);
  assert.ok(!res.isError, JSON.stringify(res));
  assert.equal(res.structuredContent.status, "completed");
  assert.equal(res.structuredContent.exitCode, 0);
  assert.equal(res.structuredContent.logs, `hello from mcp\n${fs.realpathSync(workDir)}\n`);
});

test("fsReadFile reads a file the daemon sees", async () => {
  fs.writeFileSync(path.join(workDir, "note.txt"), "written by the test\n");
  const res = await client.callTool({ name: "fsReadFile", arguments: { path: "note.txt" } }, undefined, REQUEST);
  assert.ok(!res.isError, JSON.stringify(res));
  assert.equal(res.structuredContent.content, "written by the test\n");
  assert.equal(res.structuredContent.truncated, false);
});

test("a failing tool is a tool error, not a protocol failure", async () => {
  const res = await client.callTool({ name: "fsReadFile", arguments: { path: "missing.txt" } }, undefined, REQUEST);
  assert.equal(res.isError, true);
  assert.match(res.content[0].text, /missing\.txt/);
});

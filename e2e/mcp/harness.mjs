// Shared setup of the MCP end-to-end tests: starts the real sandbox-api
// binary with the SDK tests' harness (../sdk/harness.mjs: a free loopback
// port, a fresh working directory, the hang guard) and connects the
// official TypeScript @modelcontextprotocol/sdk client (pinned in
// package.json) to its /mcp endpoint over streamable HTTP.
//
// Environment:
//   SANDBOX_API_BIN  path of the daemon binary (default ../../bin/sandbox-api)

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

import { HANG_GUARD_MS, startDaemon } from "../sdk/harness.mjs";

/**
 * The options of every MCP request: the client's own default timeout (60 s)
 * gives way to the hang guard (HANG_GUARD_MS, ../sdk/harness.mjs).
 */
export const REQUEST = { timeout: HANG_GUARD_MS };

/**
 * Starts the daemon in a fresh working directory and connects a client.
 * Returns { url, workDir, client, stop() }.
 */
export async function startDaemonWithClient() {
  const daemon = await startDaemon();
  const client = new Client({ name: "sandbox-api-e2e", version: "0.0.0" });
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(`${daemon.url}/mcp`)), REQUEST);
  } catch (err) {
    await daemon.stop();
    throw err;
  }
  const stop = async () => {
    await client.close().catch(() => {});
    await daemon.stop();
  };
  return { url: daemon.url, workDir: daemon.workDir, client, stop };
}

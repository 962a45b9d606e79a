// The web terminal in a real browser: headless Chromium (Debian's chromium
// package, never a downloaded browser), driven by playwright-core, opens
// GET /terminal of the real sandbox-api binary, types a command into the
// xterm and reads the answer off the rendered rows; then a reload must
// reattach to the same shell session and replay the screen.
//
// Environment:
//   SANDBOX_API_BIN  path of the daemon binary (default ../../bin/sandbox-api,
//                    relative to this folder); build it with `make build`, so
//                    that the xterm.js assets are embedded
//   CHROMIUM_BIN     path of the browser (default /usr/bin/chromium)
//   CI=true          a missing browser fails the test instead of skipping it
//   E2E_KEEP_TMP=1   keep the temp folder (daemon log, profile) after the run
//
// Artifact: artifacts/terminal.png, a screenshot of the page after the command.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const binPath = process.env.SANDBOX_API_BIN
  ? path.resolve(process.env.SANDBOX_API_BIN)
  : path.resolve(here, "../../bin/sandbox-api");
const chromiumPath = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const artifacts = path.join(here, "artifacts");
const inCI = process.env.CI === "true";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago on 127.0.0.1. */
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

async function healthy(url) {
  try {
    const res = await fetch(`${url}/health`);
    return res.ok && (await res.json()).status === "ok";
  } catch {
    return false;
  }
}

/** Starts the daemon on a free port with a temp log dir (as e2e/sdk/harness.mjs does). */
async function startDaemon(tmp) {
  if (!fs.existsSync(binPath)) {
    throw new Error(`sandbox-api binary not found at ${binPath}: run \`make build\` or set SANDBOX_API_BIN`);
  }
  const logDir = path.join(tmp, "logs");
  const workDir = path.join(tmp, "work");
  fs.mkdirSync(workDir, { recursive: true });
  const daemonLog = path.join(tmp, "daemon.log");
  const logText = () => {
    try {
      return fs.readFileSync(daemonLog, "utf8");
    } catch {
      return "";
    }
  };
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const out = fs.openSync(daemonLog, "a");
    const child = spawn(binPath, ["-p", String(port), "--host", "127.0.0.1", "--log-dir", logDir], {
      cwd: workDir,
      stdio: ["ignore", out, out],
    });
    fs.closeSync(out);
    let exited = null;
    const exitP = new Promise((resolve) =>
      child.on("exit", (code, signal) => resolve((exited = { code, signal }))),
    );
    // Last resort if the test process dies without running its hooks.
    const onExit = () => {
      if (!exited) child.kill("SIGKILL");
    };
    process.on("exit", onExit);

    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 10_000;
    let up = false;
    while (!exited && Date.now() < deadline) {
      if ((up = await healthy(url))) break;
      await sleep(50);
    }
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
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exitP;
        clearTimeout(timer);
      }
    };
    return { url, logText, stop };
  }
}

const haveChromium = fs.existsSync(chromiumPath);
const skip =
  !haveChromium && !inCI
    ? `no browser at ${chromiumPath} (apt-get install -y --no-install-recommends chromium, or set CHROMIUM_BIN)`
    : false;

let tmp;
let daemon;
let context;

before(async () => {
  if (skip) return;
  // Under CI=true a missing browser is an error, not a skip.
  assert.ok(haveChromium, `CI=true and no browser at ${chromiumPath}: install Debian's chromium package`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-api-browser-"));
  daemon = await startDaemon(tmp);
  const profile = path.join(tmp, "profile");
  fs.mkdirSync(profile);
  // A fresh user data dir of our own, hence a persistent context on it
  // (Playwright refuses --user-data-dir in the args of a plain launch).
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1000, height: 600 },
    timeout: 30_000,
  });
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (daemon) await daemon.stop();
  if (tmp) {
    if (process.env.E2E_KEEP_TMP) console.error(`browser e2e: temp folder kept at ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** The text of the xterm's rendered rows, one line per row. */
const screenText = (page) =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll(".xterm-rows > div"), (row) => row.textContent).join("\n"),
  );

/** Waits until the rendered rows contain needle; fails with the screen and the daemon log. */
async function waitForScreen(page, needle, what, ms = 15_000) {
  try {
    await page.waitForFunction(
      (n) => Array.from(document.querySelectorAll(".xterm-rows > div"), (r) => r.textContent).join("\n").includes(n),
      needle,
      { timeout: ms, polling: 50 },
    );
  } catch (err) {
    const screen = await screenText(page).catch(() => "(page gone)");
    await page.screenshot({ path: path.join(artifacts, "terminal-failure.png") }).catch(() => {});
    assert.fail(`${what}: ${JSON.stringify(needle)} not on screen after ${ms} ms (${err.message})\n` +
      `screen:\n${screen}\ndaemon log:\n${daemon.logText()}`);
  }
}

/** Waits for the page's terminal websocket to open and deliver a first output frame. */
async function waitReady(page, ws) {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output on ${ws.url()} within 15 s`)), 15_000);
    const onFrame = (f) => {
      let msg;
      try {
        msg = JSON.parse(typeof f.payload === "string" ? f.payload : f.payload.toString());
      } catch {
        return;
      }
      if (msg.type === "output" && msg.data) {
        clearTimeout(timer);
        ws.off("framereceived", onFrame);
        resolve();
      }
    };
    ws.on("framereceived", onFrame);
    ws.on("close", () => reject(new Error(`terminal websocket ${ws.url()} closed before any output`)));
  });
  // The prompt is rendered: something on the rows besides blanks.
  await page.waitForFunction(
    () => (document.querySelector(".xterm-rows")?.textContent ?? "").trim().length > 0,
    null,
    { timeout: 15_000, polling: 50 },
  );
}

const sessionOf = (ws) => new URL(ws.url()).searchParams.get("sessionId");

test("the web terminal runs a command in headless Chromium and survives a reload", { skip, timeout: 90_000 }, async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  try {
    let wsP = page.waitForEvent("websocket", { predicate: (w) => w.url().includes("/terminal/ws"), timeout: 15_000 });
    const res = await page.goto(`${daemon.url}/terminal`);
    assert.equal(res.status(), 200, "GET /terminal");
    let ws = await wsP;
    await waitReady(page, ws);
    const session = sessionOf(ws);
    assert.ok(session, `session id in ${ws.url()}`);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("sandbox-terminal-session")), session);

    // Keyboard into the xterm: its hidden textarea has the focus.
    await page.click(".xterm-screen");
    await page.keyboard.type("echo hello-$((6*7))", { delay: 5 });
    await page.keyboard.press("Enter");
    // The typed line holds "$((6*7))", so "hello-42" can only be the output.
    await waitForScreen(page, "hello-42", "command output");
    const screen = await screenText(page);
    assert.match(screen, /echo hello-\$\(\(6\*7\)\)/, `the typed command is echoed:\n${screen}`);
    assert.match(screen, /^hello-42\s*$/m, `hello-42 is an output line of its own:\n${screen}`);
    await page.screenshot({ path: path.join(artifacts, "terminal.png") });

    // A reload keeps the session id (sessionStorage), reattaches to the same
    // shell, and its replay brings hello-42 back without typing anything.
    wsP = page.waitForEvent("websocket", { predicate: (w) => w.url().includes("/terminal/ws"), timeout: 15_000 });
    await page.reload();
    ws = await wsP;
    assert.equal(sessionOf(ws), session, "the reloaded page reattaches to the same session");
    await waitReady(page, ws);
    await waitForScreen(page, "hello-42", "replay after reload");
    await page.screenshot({ path: path.join(artifacts, "terminal-reloaded.png") });
    assert.equal(await page.evaluate(() => sessionStorage.getItem("sandbox-terminal-session")), session);

    // The reattached shell is live: it answers a new command too.
    await page.click(".xterm-screen");
    await page.keyboard.type("echo again-$((6*8))", { delay: 5 });
    await page.keyboard.press("Enter");
    await waitForScreen(page, "again-48", "command after reload");

    assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
  } finally {
    await page.close();
  }
});

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
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

import { eventually, HANG_GUARD_MS, startDaemon, TEST_TIMEOUT_MS } from "../sdk/harness.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const chromiumPath = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const artifacts = path.join(here, "artifacts");
const inCI = process.env.CI === "true";

const haveChromium = fs.existsSync(chromiumPath);
const skip =
  !haveChromium && !inCI
    ? `no browser at ${chromiumPath} (apt-get install -y --no-install-recommends chromium, or set CHROMIUM_BIN)`
    : false;

let daemon;
let context;

before(async () => {
  if (skip) return;
  // Under CI=true a missing browser is an error, not a skip.
  assert.ok(haveChromium, `CI=true and no browser at ${chromiumPath}: install Debian's chromium package`);
  // Its temp folder also holds the browser profile. The shells get an empty
  // HOME: the machine's dotfiles must not slow or break the test.
  daemon = await startDaemon({ isolatedHome: true });
  const profile = path.join(daemon.tmp, "profile");
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
    timeout: HANG_GUARD_MS,
  });
  // Every wait on the browser (navigation, clicks, typing) is bounded by
  // the hang guard, not by Playwright's 30 s.
  context.setDefaultTimeout(HANG_GUARD_MS);
  context.setDefaultNavigationTimeout(HANG_GUARD_MS);
});

after(async () => {
  if (context) await context.close().catch(() => {});
  if (daemon) await daemon.stop(); // removes the temp folder, profile included
});

/** The text of the xterm's rendered rows, one line per row. */
const screenText = (page) =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll(".xterm-rows > div"), (row) => row.textContent).join("\n"),
  );

/** Waits until the rendered rows contain needle; fails with the screen and the daemon log. */
async function waitForScreen(page, needle, what, ms = HANG_GUARD_MS, d = daemon) {
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
      `screen:\n${screen}\ndaemon log:\n${d.logText()}`);
  }
}

/**
 * The page's next terminal websocket, with a promise of its first output
 * frame. Listening starts the moment the socket exists: a frame that came
 * before a later listener was added would be missed, and the shell prints
 * its prompt only once.
 */
function nextTerminalSocket(page) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      page.off("websocket", onSocket);
      reject(new Error(`no terminal websocket within the hang guard (${HANG_GUARD_MS} ms)`));
    }, HANG_GUARD_MS);
    function onSocket(ws) {
      if (!ws.url().includes("/terminal/ws")) return;
      clearTimeout(timer);
      page.off("websocket", onSocket);
      const output = new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error(`no output on ${ws.url()} within the hang guard`)), HANG_GUARD_MS);
        ws.on("framereceived", (f) => {
          let msg;
          try {
            msg = JSON.parse(typeof f.payload === "string" ? f.payload : f.payload.toString());
          } catch {
            return;
          }
          if (msg.type === "output" && msg.data) {
            clearTimeout(t);
            res();
          }
        });
        ws.on("close", () => rej(new Error(`terminal websocket ${ws.url()} closed before any output`)));
      });
      output.catch(() => {}); // awaited by waitReady; never an unhandled rejection
      resolve({ ws, output });
    }
    page.on("websocket", onSocket);
  });
}

/** Waits for the socket's first output frame, then for the prompt on screen. */
async function waitReady(page, sock) {
  await sock.output;
  // The prompt is rendered: something on the rows besides blanks.
  await page.waitForFunction(
    () => (document.querySelector(".xterm-rows")?.textContent ?? "").trim().length > 0,
    null,
    { timeout: HANG_GUARD_MS, polling: 50 },
  );
}

const sessionOf = (sock) => new URL(sock.ws.url()).searchParams.get("sessionId");

test("the web terminal runs a command in headless Chromium and survives a reload", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (err) => pageErrors.push(err.message));
  try {
    let sockP = nextTerminalSocket(page);
    const res = await page.goto(`${daemon.url}/terminal`);
    assert.equal(res.status(), 200, "GET /terminal");
    let sock = await sockP;
    await waitReady(page, sock);
    const session = sessionOf(sock);
    assert.ok(session, `session id in ${sock.ws.url()}`);
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
    sockP = nextTerminalSocket(page);
    await page.reload();
    sock = await sockP;
    assert.equal(sessionOf(sock), session, "the reloaded page reattaches to the same session");
    await waitReady(page, sock);
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

test("with --token, /terminal?token= opens the terminal and the cookie opens nothing else", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const token = "tok-" + Math.random().toString(36).slice(2);
  const guarded = await startDaemon({ args: ["--token", token], isolatedHome: true });
  const page = await context.newPage();
  try {
    // Without credentials the page says how to get in.
    let res = await page.goto(`${guarded.url}/terminal`);
    assert.equal(res.status(), 401, "GET /terminal without credentials");
    assert.match(await res.text(), /\/terminal\?token=<token>/);

    // With the token in the URL: a cookie, and the token leaves the address bar.
    const sockP = nextTerminalSocket(page);
    res = await page.goto(`${guarded.url}/terminal?token=${encodeURIComponent(token)}`);
    assert.equal(res.status(), 200, "the page after the redirect");
    assert.equal(page.url(), `${guarded.url}/terminal`, "the token is gone from the URL");
    // Scoped to /terminal, with an expiry (12 hours).
    assert.equal((await context.cookies(`${guarded.url}/process`)).length, 0, "the cookie is not sent to /process");
    const cookies = await context.cookies(`${guarded.url}/terminal`);
    const cookie = cookies.find((c) => c.name === "sandbox_api_terminal");
    assert.ok(cookie, `terminal cookie in ${JSON.stringify(cookies)}`);
    assert.ok(cookie.httpOnly && cookie.sameSite === "Lax" && cookie.path === "/terminal", `cookie flags ${JSON.stringify(cookie)}`);
    const hoursLeft = (cookie.expires - Date.now() / 1000) / 3600;
    assert.ok(hoursLeft > 11 && hoursLeft <= 12, `cookie expiry in ${hoursLeft} hours, want 12`);
    assert.ok(!cookie.value.includes(token), "the cookie does not carry the token");

    const sock = await sockP;
    await waitReady(page, sock);
    await page.click(".xterm-screen");
    await page.keyboard.type("echo guarded-$((5*5))", { delay: 5 });
    await page.keyboard.press("Enter");
    await waitForScreen(page, "guarded-25", "command output with a token", HANG_GUARD_MS, guarded);

    // The cookie is not an API key.
    const apiStatus = await page.evaluate(() => fetch("/process").then((r) => r.status));
    assert.equal(apiStatus, 401, "GET /process with only the terminal cookie");

    // A page of another origin on the same host (another port: SameSite
    // lets the cookie go) cannot open the terminal websocket.
    const other = await context.newPage();
    try {
      await other.goto(`${daemon.url}/health`);
      const wsURL = guarded.url.replace(/^http/, "ws") + "/terminal/ws?sessionId=cross-origin";
      const outcome = await other.evaluate(
        (u) =>
          new Promise((resolve) => {
            const s = new WebSocket(u);
            s.onopen = () => resolve("open");
            s.onclose = () => resolve("closed");
          }),
        wsURL,
      );
      assert.equal(outcome, "closed", "a cross-origin websocket with the cookie is refused");
      // The daemon writes its log on its own time: wait for the line.
      const refused = await eventually(() =>
        guarded.logText().split("\n").some((line) => {
          try {
            const e = JSON.parse(line);
            return e.path === "/terminal/ws" && e.status === 403;
          } catch {
            return false;
          }
        }),
      );
      assert.ok(refused, `a 403 for the cross-origin websocket in the daemon's log:\n${guarded.logText()}`);
    } finally {
      await other.close();
    }
  } finally {
    await page.close();
    await guarded.stop();
  }
});

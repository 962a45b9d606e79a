// Browsers must not drive a daemon they were not invited to. A daemon with
// no token (as `make run` starts it) runs on this machine; headless
// Chromium visits pages of other origins that try what any site could:
// a text/plain fetch POST /process, an HTML form with enctype=text/plain,
// a websocket to /terminal/ws, a frame of the terminal page, and, through
// DNS rebinding (--host-resolver-rules maps evil.example to 127.0.0.1, as
// the attacker's DNS would), same-origin requests with Host: evil.example.
// Each would create a marker file if it ran anything; none may. The
// daemon's own terminal page and the SDK under Node keep working.
//
// Environment: as terminal.test.mjs (SANDBOX_API_BIN, CHROMIUM_BIN, CI).

import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { after, before, test } from "node:test";

import { chromium } from "playwright-core";

import { connectSdk, eventually, HANG_GUARD_MS, startDaemon, TEST_TIMEOUT_MS } from "../sdk/harness.mjs";

const chromiumPath = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const inCI = process.env.CI === "true";
const haveChromium = fs.existsSync(chromiumPath);
const skip =
  !haveChromium && !inCI
    ? `no browser at ${chromiumPath} (apt-get install -y --no-install-recommends chromium, or set CHROMIUM_BIN)`
    : false;

// Hang guard of every wait on the browser: an event, not a pace.
const guard = HANG_GUARD_MS;

let daemon;
let attacker; // the other origin's web server
let attackerURL;
let browser;
let marks; // folder of the marker files

/** A shell command that leaves a marker file named name. */
const touch = (name) => `touch '${path.join(marks, name)}'`;
const marked = (name) => fs.existsSync(path.join(marks, name));

/** The daemon's access log lines for method and path. */
function accessLog(method, pathname) {
  return daemon
    .logText()
    .split("\n")
    .flatMap((line) => {
      try {
        const e = JSON.parse(line);
        return e.msg === "http request" && e.method === method && e.path === pathname ? [e] : [];
      } catch {
        return [];
      }
    });
}

/** The pages of the other origin, each attacking the daemon at target. */
function attackerPage(req, res) {
  const u = new URL(req.url, "http://x");
  const target = u.searchParams.get("target");
  const mark = u.searchParams.get("mark");
  let body = "<!doctype html><title>some site</title><p>nothing to see</p>";
  if (u.pathname === "/form") {
    // The classic text/plain trick: name + "=" + value is a JSON object.
    const json = JSON.stringify({ command: touch(mark), waitForCompletion: true, x: "" }).slice(0, -2);
    body = `<!doctype html><form method="POST" enctype="text/plain" action="${target}/process">` +
      `<input type="hidden" name='${json.replaceAll("'", "&#39;")}' value='"}'></form>`;
  } else if (u.pathname === "/frame") {
    body = `<!doctype html><iframe src="${target}/terminal" width="800" height="400"></iframe>`;
  }
  res.setHeader("Content-Type", "text/html; charset=utf-8");
  res.end(body);
}

before(async () => {
  if (skip) return;
  assert.ok(haveChromium, `CI=true and no browser at ${chromiumPath}: install Debian's chromium package`);
  daemon = await startDaemon({ isolatedHome: true });
  marks = path.join(daemon.tmp, "marks");
  fs.mkdirSync(marks);
  attacker = http.createServer(attackerPage);
  await new Promise((resolve) => attacker.listen(0, "127.0.0.1", resolve));
  attackerURL = `http://127.0.0.1:${attacker.address().port}`;
  browser = await chromium.launch({
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
      // The attacker's DNS, after the rebinding: its name is this machine.
      "--host-resolver-rules=MAP evil.example 127.0.0.1",
    ],
    timeout: guard,
  });
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  if (attacker) attacker.close();
  if (daemon) await daemon.stop();
});

/** Runs fn with a fresh page (own cookies and storage) on url. */
async function onPage(url, fn) {
  const context = await browser.newContext();
  // Every wait on the browser is bounded by the hang guard, not by
  // Playwright's 30 s.
  context.setDefaultTimeout(guard);
  context.setDefaultNavigationTimeout(guard);
  const page = await context.newPage();
  try {
    if (url) await page.goto(url, { timeout: guard });
    return await fn(page);
  } finally {
    await context.close();
  }
}

/** In the page: a websocket that types cmd once open; "ran" when its output shows done-2. */
const websocketAttack = ([wsURL, cmd]) =>
  new Promise((resolve) => {
    const s = new WebSocket(wsURL);
    let out = "";
    s.onopen = () => s.send(JSON.stringify({ type: "input", data: `${cmd}; echo done-$((1+1))\r` }));
    s.onmessage = (ev) => {
      out += JSON.parse(ev.data).data || "";
      if (out.includes("done-2")) {
        resolve("ran");
        s.close();
      }
    };
    s.onclose = () => resolve("closed");
  });

/** Collects what went wrong, so that one run reports every attack that got through. */
function checker() {
  const problems = [];
  return {
    problems,
    expect(ok, what) {
      if (!ok) problems.push(what);
    },
  };
}

test("a page of another origin runs nothing: text/plain fetch, form post, websocket, frame", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const targets = [daemon.url, `http://localhost:${daemon.port}`];
  const { problems, expect } = checker();

  await onPage(`${attackerURL}/`, async (page) => {
    for (const [i, target] of targets.entries()) {
      const mark = `fetch-${i}`;
      // A simple request: no preflight, so it reaches the daemon either way.
      const outcome = await page.evaluate(
        ([u, cmd]) =>
          fetch(`${u}/process`, { method: "POST", body: JSON.stringify({ command: cmd, waitForCompletion: true }) }).then(
            async (r) => `read ${r.status}: ${await r.text()}`,
            (err) => `unreadable (${err.name})`,
          ),
        [target, touch(mark)],
      );
      expect(/^unreadable/.test(outcome), `text/plain fetch to ${target}: the page read the answer: ${outcome}`);
      expect(!marked(mark), `text/plain fetch to ${target} ran its command`);
    }
    // The daemon writes its log on its own time: wait for the lines.
    const refused = () => accessLog("POST", "/process").filter((e) => e.status === 403).length;
    await eventually(() => refused() >= targets.length);
    expect(refused() === targets.length, `${refused()} of ${targets.length} fetches refused (403) in the daemon's log`);

    for (const [i, target] of targets.entries()) {
      const mark = `ws-${i}`;
      const wsURL = `${target.replace(/^http/, "ws")}/terminal/ws?sessionId=attack-${i}`;
      const outcome = await page.evaluate(websocketAttack, [wsURL, touch(mark)]);
      expect(outcome === "closed", `websocket to ${wsURL}: ${outcome}`);
      expect(!marked(mark), `websocket to ${wsURL} ran its command`);
    }
    const wsRefused = () => accessLog("GET", "/terminal/ws").filter((e) => e.status === 403).length;
    await eventually(() => wsRefused() >= targets.length);
    expect(wsRefused() === targets.length, `${wsRefused()} of ${targets.length} websockets refused (403) in the daemon's log`);
  });

  // The form navigates to the daemon's answer once it is submitted.
  await onPage(null, async (page) => {
    const mark = "form";
    await page.goto(`${attackerURL}/form?target=${encodeURIComponent(daemon.url)}&mark=${mark}`, { timeout: guard });
    const answered = page.waitForResponse((r) => r.url() === `${daemon.url}/process`, { timeout: guard });
    await page.evaluate(() => document.forms[0].submit());
    const res = await answered;
    expect(res.status() === 403, `form post: ${res.status()} ${await res.text()}`);
    expect(!marked(mark), "the form post ran its command");
  });

  // A frame of the terminal page: the CSP keeps it from rendering, so it
  // opens no websocket under the attacker's overlay.
  await onPage(null, async (page) => {
    const sockets = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    const framed = page.waitForResponse((r) => r.url() === `${daemon.url}/terminal`, { timeout: guard });
    await page.goto(`${attackerURL}/frame?target=${encodeURIComponent(daemon.url)}`, { timeout: guard });
    const res = await framed;
    const csp = res.headers()["content-security-policy"];
    expect(csp === "frame-ancestors 'self'", `framed terminal page: Content-Security-Policy ${csp}`);
    // The frame's document is settled (blocked, or loaded with its scripts run).
    await page.waitForLoadState("load", { timeout: guard });
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const hasTerminal = frame ? await frame.evaluate(() => !!document.querySelector(".xterm")).catch(() => false) : false;
    expect(!hasTerminal, "the terminal rendered inside another site's frame");
    expect(sockets.length === 0, `the framed terminal opened websockets ${sockets}`);
  });

  const list = await fetch(`${daemon.url}/process`).then((r) => r.json());
  expect(list.length === 0, `${list.length} processes started by another origin's page`);
  const sessions = await fetch(`${daemon.url}/terminal/sessions`).then((r) => r.json());
  expect(sessions.length === 0, `${sessions.length} terminal sessions started by another origin's page`);
  assert.deepEqual(problems, [], `daemon log:\n${daemon.logText()}`);
});

test("a rebound page (Host: evil.example) can neither run nor read anything", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  const { problems, expect } = checker();
  const secret = path.join(daemon.tmp, "secret.txt");
  fs.writeFileSync(secret, "do-not-leak");
  const origin = `http://evil.example:${daemon.port}`;
  // The attacker's page, now same-origin with the daemon: its scripts run
  // in this origin (the daemon's answer to the navigation does not matter).
  await onPage(`${origin}/`, async (page) => {
    const mark = "rebound";
    const run = await page.evaluate(
      (cmd) =>
        fetch("/process", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ command: cmd, waitForCompletion: true }),
        }).then((r) => r.status),
      touch(mark),
    );
    expect(run === 403, `same-origin POST /process after rebinding: ${run}`);
    expect(!marked(mark), "the rebound POST ran its command");

    // Same-origin GETs of an http page carry no Origin and no Sec-Fetch-*.
    const read = await page.evaluate((p) => fetch(`/filesystem/${p}`).then(async (r) => `${r.status} ${await r.text()}`), secret);
    expect(/^403 /.test(read) && !read.includes("do-not-leak"), `same-origin read after rebinding: ${read}`);

    const wsMark = "rebound-ws";
    const ws = await page.evaluate(websocketAttack, [`ws://evil.example:${daemon.port}/terminal/ws?sessionId=rebound`, touch(wsMark)]);
    expect(ws === "closed", `websocket after rebinding: ${ws}`);
    expect(!marked(wsMark), "the rebound websocket ran its command");
  });
  const sessions = await fetch(`${daemon.url}/terminal/sessions`).then((r) => r.json());
  expect(sessions.length === 0, `${sessions.length} terminal sessions started by the rebound page`);
  assert.deepEqual(problems, [], `daemon log:\n${daemon.logText()}`);
});

test("the daemon's own terminal page and the SDK under Node still work", { skip, timeout: TEST_TIMEOUT_MS }, async () => {
  await onPage(null, async (page) => {
    const opened = page.waitForEvent("websocket", { predicate: (ws) => ws.url().includes("/terminal/ws"), timeout: guard });
    const res = await page.goto(`${daemon.url}/terminal`, { timeout: guard });
    assert.equal(res.status(), 200);
    assert.equal(res.headers()["content-security-policy"], "frame-ancestors 'self'");
    await opened;
    await page.waitForFunction(() => (document.querySelector(".xterm-rows")?.textContent ?? "").trim().length > 0, null, {
      timeout: guard,
      polling: 50,
    });
    await page.click(".xterm-screen");
    await page.keyboard.type(`${touch("own-page")}; echo own-$((6*7))`, { delay: 5 });
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll(".xterm-rows > div"), (r) => r.textContent).join("\n").includes("own-42"),
      null,
      { timeout: guard, polling: 50 },
    );
    assert.ok(marked("own-page"), "the terminal page ran the command");
  });

  // Node's fetch sends Sec-Fetch-Mode: cors and nothing else of the kind.
  const { sandbox } = await connectSdk(daemon.url);
  const p = await sandbox.process.exec({ command: touch("sdk"), waitForCompletion: true });
  assert.equal(p.exitCode, 0);
  assert.ok(marked("sdk"), "the SDK ran the command");
  const file = path.join(marks, "sdk-written.txt");
  await sandbox.fs.write(file, "from the sdk");
  assert.equal(fs.readFileSync(file, "utf8"), "from the sdk");
});

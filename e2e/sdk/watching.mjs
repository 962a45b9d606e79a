// Shared by the SDK watch tests: a sandbox.fs.watch that is known to be armed.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { eventually } from "./harness.mjs";

/** Names of the probe files watchArmed writes; their events are left out. */
export const PROBE = ".probe-";

/**
 * Starts sandbox.fs.watch(target) and resolves once it is armed: the SDK
 * gives no sign of that, so probe files are written into dir until one is
 * reported. Returns { events, errors, close } with probe events left out.
 */
export async function watchArmed(sandbox, dir, target, options = {}) {
  const events = [];
  const errors = [];
  let probed = false;
  const handle = sandbox.fs.watch(
    target,
    (ev) => {
      if (ev.name?.startsWith(PROBE)) probed = true;
      else events.push(ev);
    },
    { ...options, onError: (err) => errors.push(err) },
  );
  let n = 0;
  const armed = await eventually(
    () => {
      if (!probed) fs.writeFileSync(path.join(dir, `${PROBE}${n++}`), "");
      return probed;
    },
    { every: 100 },
  );
  if (!armed) {
    handle.close();
    assert.fail(`watch of ${target} never reported a probe file; errors: ${errors.map(String)}`);
  }
  return { events, errors, close: () => handle.close() };
}

/**
 * Tally under `wrangler dev` on 127.0.0.1, for the browser tests and the benchmark alike: a free
 * port (never 8787, which a person on this machine may be using), a free inspector port, its own
 * temporary storage, and optional `--var`s. Ready when wrangler says so on its output (no polling).
 * Always stopped: the whole process group is signalled (wrangler leaves its workerd children
 * behind when only its own pid is), on stop() and as a last resort when the process exits.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How long a stopping wrangler gets after SIGTERM before its group is killed. */
const STOP_GRACE_MS = 5000;

/** A port the OS says is free right now (bound to 0 and released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `wrangler dev` in `root`. `vars` become `--var KEY:VALUE` (they override .dev.vars).
 * `persistTo` keeps the data in that folder across a stop and a new start.
 * @returns {Promise<{base: string, port: number, pid: number, stop: () => Promise<void>, output: () => string}>}
 */
export async function startWranglerDev(root, { vars = {}, storagePrefix = "tally-", readyTimeoutMs = 120_000, persistTo } = {}) {
  const [port, inspector] = [await freePort(), await freePort()];
  // A caller's own storage outlives this service (a restart keeps the data); a temporary one goes.
  const persist = persistTo ?? mkdtempSync(join(tmpdir(), storagePrefix));
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector)];
  args.push("--persist-to", persist, "--show-interactive-dev-session=false");
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  const child = spawn(join(root, "node_modules", ".bin", "wrangler"), args, {
    cwd: root,
    detached: true, // its own process group, so stop() ends wrangler and workerd together
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", FORCE_COLOR: "0" },
  });
  let output = "";
  const keep = (chunk) => {
    output = (output + String(chunk)).slice(-100_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => killGroup("SIGKILL");
  process.on("exit", onExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", onExit);
    const exited = new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
    killGroup("SIGTERM");
    const force = setTimeout(() => killGroup("SIGKILL"), STOP_GRACE_MS);
    await exited; // bounded: SIGKILL ends the group after the grace period
    clearTimeout(force);
    killGroup("SIGKILL"); // stragglers of the group (workerd)
    if (persistTo === undefined) rmSync(persist, { recursive: true, force: true });
  };

  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`wrangler dev not ready after ${readyTimeoutMs} ms:\n${output.slice(-3000)}`)), readyTimeoutMs);
      const check = () => {
        if (!/Ready on/.test(output)) return;
        clearTimeout(timer);
        resolve();
      };
      child.stdout.on("data", check);
      child.stderr.on("data", check);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`wrangler dev exited with ${code} before it was ready:\n${output.slice(-3000)}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { base: `http://127.0.0.1:${port}`, port, pid: child.pid, stop, output: () => output };
}

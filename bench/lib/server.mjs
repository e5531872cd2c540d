/**
 * Starts Tally under `wrangler dev` on 127.0.0.1 with a fresh storage directory and a free port,
 * and always stops it: the whole process group is killed on stop, on error and on SIGINT/SIGTERM,
 * because wrangler leaves workerd children behind when only its own pid is signalled.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A port the OS says is free right now (bound to 0 and released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Local tokens from .dev.vars (created from the example like `npm start` does). */
export function localVars(root) {
  const file = join(root, ".dev.vars");
  if (!existsSync(file)) copyFileSync(join(root, ".dev.vars.example"), file);
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
  );
}

/**
 * @returns {Promise<{base: string, port: number, stop: () => Promise<void>, log: () => string}>}
 */
export async function startService(root, { readyTimeoutMs = 90_000, log = console.log } = {}) {
  const vars = localVars(root);
  if (vars.LOCAL_LAYER_SWITCH !== "on") {
    throw new Error(".dev.vars must set LOCAL_LAYER_SWITCH=on for the per-layer measurements");
  }
  const port = await freePort();
  const persist = mkdtempSync(join(tmpdir(), "tally-bench-"));
  const wrangler = join(root, "node_modules", ".bin", "wrangler");
  const child = spawn(
    wrangler,
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", persist, "--show-interactive-dev-session=false"],
    {
      cwd: root,
      detached: true, // own process group, so stop() can kill wrangler and workerd together
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", FORCE_COLOR: "0" },
    },
  );
  let output = "";
  const keep = (chunk) => {
    output += String(chunk);
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", killSync);
    const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {}
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(timer);
    try {
      process.kill(-child.pid, "SIGKILL"); // stragglers in the group (workerd)
    } catch {}
    rmSync(persist, { recursive: true, force: true });
  };
  // Last resort if the process exits without calling stop (uncaught error, process.exit).
  const killSync = () => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  };
  process.on("exit", killSync);

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wrangler dev not ready after ${readyTimeoutMs} ms:\n${output.slice(-3000)}`)), readyTimeoutMs);
    const check = () => {
      if (/Ready on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on("data", check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`wrangler dev exited with ${code} before it was ready:\n${output.slice(-3000)}`));
    });
  }).catch(async (error) => {
    await stop();
    throw error;
  });
  const base = `http://127.0.0.1:${port}`;
  log(`service: wrangler dev ready on ${base} (storage ${persist})`);
  return { base, port, vars, stop, log: () => output };
}

/**
 * Browser-test support: Tally under `wrangler dev` on 127.0.0.1, a free port (never 8787: other
 * people on this machine may use it), its own temporary storage and the tokens each test file
 * chooses. Ready when /healthz answers; always stopped, whole process group (wrangler leaves
 * workerd children behind when only its own pid is signalled), within a bounded time.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/** A port the OS says is free right now (bound to 0 and released). */
function freePort() {
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

/** Polls `url` until it answers 200, the child exits, or `deadline` passes. */
async function waitForHealth(url, child, deadline, output) {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}:\n${output().slice(-3000)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer ${url} in time:\n${output().slice(-3000)}`);
}

/**
 * Starts the service with `vars` (every token the file needs; a token given as "" is unset, which
 * Tally treats as not configured, so a developer's own .dev.vars cannot change what tests see).
 * @returns {Promise<{base: string, stop: () => Promise<void>, output: () => string}>}
 */
export async function startTally(vars, { readyTimeoutMs = 120_000 } = {}) {
  const [port, inspector] = [await freePort(), await freePort()];
  const persist = mkdtempSync(join(tmpdir(), "tally-browser-"));
  const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector)];
  args.push("--persist-to", persist, "--show-interactive-dev-session=false");
  for (const [key, value] of Object.entries({ READ_TOKEN: "", LOCAL_LAYER_SWITCH: "", ...vars })) args.push("--var", `${key}:${value}`);
  const child = spawn(join(ROOT, "node_modules/.bin/wrangler"), args, {
    cwd: ROOT,
    detached: true, // its own process group, so stop() ends wrangler and workerd together
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", FORCE_COLOR: "0" },
  });
  let log = "";
  const keep = (chunk) => {
    log = (log + String(chunk)).slice(-100_000);
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
  const onExit = () => killGroup("SIGKILL"); // last resort if the run ends without stop()
  process.on("exit", onExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off("exit", onExit);
    const exited = new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
    killGroup("SIGTERM");
    const force = setTimeout(() => killGroup("SIGKILL"), 5000);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    clearTimeout(force);
    killGroup("SIGKILL"); // stragglers of the group (workerd)
    rmSync(persist, { recursive: true, force: true });
  };

  const base = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(`${base}/healthz`, child, Date.now() + readyTimeoutMs, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { base, stop, output: () => log };
}

/** A small client of the HTTP API for setting up what the page will show. */
export function tally(base, tokens) {
  const call = async (method, path, token, body) => {
    const headers = { Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  return {
    configure: (ns, config) => call("PUT", `/v1/namespaces/${ns}/config`, tokens.admin, config),
    ingest: (ns, events) => call("POST", `/v1/namespaces/${ns}/events`, tokens.ingest, { events }),
    refresh: (ns) => call("POST", `/v1/namespaces/${ns}/refresh`, tokens.admin),
    trending: (ns, query = "") => call("GET", `/v1/namespaces/${ns}/trending${query}`, tokens.admin),
  };
}

let counter = 0;
/** A namespace no other test uses. */
export function freshNamespace(prefix) {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The benchmark's service: Tally under `wrangler dev` (test/support/wrangler-dev.mjs, which the
 * browser tests use too) with the local tokens of .dev.vars.
 */
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startWranglerDev } from "../../test/support/wrangler-dev.mjs";

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
 * Tally for the benchmark: its tokens from .dev.vars, which must turn the local layer switch on.
 * @returns {Promise<{base: string, port: number, inspector: number, pid: number, vars: Record<string, string>, stop: () => Promise<void>, log: () => string}>}
 */
export async function startService(root, { readyTimeoutMs = 90_000, log = console.log } = {}) {
  const vars = localVars(root);
  if (vars.LOCAL_LAYER_SWITCH !== "on") {
    throw new Error(".dev.vars must set LOCAL_LAYER_SWITCH=on for the per-layer measurements");
  }
  const service = await startWranglerDev(root, { storagePrefix: "tally-bench-", readyTimeoutMs });
  log(`service: wrangler dev ready on ${service.base}`);
  return { base: service.base, port: service.port, inspector: service.inspector, pid: service.pid, vars, stop: service.stop, log: service.output };
}

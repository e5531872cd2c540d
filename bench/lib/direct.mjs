/**
 * The runtime's own floor: the built Worker served straight from workerd through Miniflare's API,
 * without wrangler dev's proxy (which caps local throughput). Uses the miniflare that wrangler
 * itself depends on, so the runtime matches `wrangler dev`. Bundled with `wrangler deploy --dry-run`.
 * Note: the Cache API and KV are still miniflare's local emulations, not the platform's.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { localVars } from "./server.mjs";
import { workerdChildren, workerdChildrenCpuSeconds } from "./machine.mjs";

const TYPES = { ".js": "ESModule", ".mjs": "ESModule", ".sql": "Text", ".txt": "Text", ".html": "Text", ".wasm": "CompiledWasm", ".bin": "Data" };

/** compatibility_date and [vars] from wrangler.toml (flat keys only, which is all it uses). */
export function wranglerToml(root) {
  const text = readFileSync(join(root, "wrangler.toml"), "utf8");
  const date = text.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1];
  const flags = JSON.parse(text.match(/^compatibility_flags\s*=\s*(\[[^\]]*\])/m)?.[1] ?? "[]");
  const vars = {};
  const section = text.split(/^\[vars\]\s*$/m)[1]?.split(/^\[/m)[0] ?? "";
  for (const m of section.matchAll(/^([A-Z_][A-Z0-9_]*)\s*=\s*"([^"]*)"/gm)) vars[m[1]] = m[2];
  return { date, flags, vars };
}

/** Miniflare as wrangler itself depends on it, and its version. */
export async function miniflareOf(root) {
  const fromWrangler = createRequire(createRequire(join(root, "package.json")).resolve("wrangler/package.json"));
  const mod = await import(pathToFileURL(fromWrangler.resolve("miniflare")).href);
  const version = JSON.parse(readFileSync(fromWrangler.resolve("miniflare/package.json"), "utf8")).version;
  // Miniflare 5 takes a new option shape and converts the classic one; Miniflare 4 takes it as is.
  const create = (options) => new mod.Miniflare(mod.convertV4MiniflareOptions ? mod.convertV4MiniflareOptions(options) : options);
  return { create, version };
}

/**
 * A bare Worker that answers `/floor` with a constant, `/bytes?n=N` with a constant JSON body of N
 * bytes (a floor for an answer of that size: what moving its bytes costs the runtime and the load
 * generator on the same cores), and `/cache` with one `caches.default.match` of an 800-byte entry:
 * what the local Cache API emulation costs by itself, to tell it apart from Tally's own work.
 */
const PROBE = `const bodies = new Map();
export default { async fetch(request) {
  const url = new URL(request.url), path = url.pathname, key = "https://probe.internal/entry";
  if (path === "/floor") return Response.json({ ok: true });
  if (path === "/bytes") {
    const n = Number(url.searchParams.get("n"));
    if (!bodies.has(n)) bodies.set(n, new TextEncoder().encode(JSON.stringify("x".repeat(Math.max(0, n - 2)))));
    return new Response(bodies.get(n), { headers: { "Content-Type": "application/json" } });
  }
  if (path === "/put") { await caches.default.put(key, new Response("x".repeat(800), { headers: { "Cache-Control": "max-age=3600" } })); return new Response("ok"); }
  const hit = await caches.default.match(key);
  return hit ? new Response(await hit.text(), { headers: { "Content-Type": "application/json" } }) : new Response("miss", { status: 404 });
} };`;

export async function startProbe(root, date) {
  const { create } = await miniflareOf(root);
  const mf = create({ host: "127.0.0.1", port: 0, modules: true, script: PROBE, compatibilityDate: date });
  const base = String(await mf.ready).replace(/\/$/, "");
  await fetch(`${base}/put`).then((r) => r.text());
  return { base, stop: () => mf.dispose() };
}

export async function startDirect(root, log) {
  const out = mkdtempSync(join(tmpdir(), "tally-build-"));
  execFileSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], {
    cwd: root,
    stdio: "ignore",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  const files = readdirSync(out).filter((f) => TYPES[extname(f)]);
  const modules = [
    { type: "ESModule", path: join(out, "index.js") },
    ...files.filter((f) => f !== "index.js").map((f) => ({ type: TYPES[extname(f)], path: join(out, f) })),
  ];
  const { create, version } = await miniflareOf(root);
  const toml = wranglerToml(root);
  const options = {
    host: "127.0.0.1",
    port: 0,
    modulesRoot: out,
    modules,
    compatibilityDate: toml.date,
    compatibilityFlags: toml.flags,
    // The bindings of wrangler.toml: the two object classes, the KV mirror; vars plus the local tokens.
    durableObjects: {
      AGGREGATOR: { className: "NamespaceAggregator", useSQLite: true },
      REGISTRY: { className: "NamespaceRegistry", useSQLite: true },
    },
    kvNamespaces: ["SNAPSHOTS"],
    bindings: { ...toml.vars, ...localVars(root) },
  };
  const others = workerdChildren();
  const mf = create(options);
  const base = String(await mf.ready).replace(/\/$/, "");
  const own = new Set([...workerdChildren()].filter((pid) => !others.has(pid)));
  log(`service: workerd via miniflare ${version} ready on ${base}`);
  return {
    base,
    /** CPU seconds of this service's own workerd processes, whatever else runs beside it. */
    cpuSeconds: () => workerdChildrenCpuSeconds(own),
    miniflare: version,
    compatibilityDate: toml.date,
    stop: async () => {
      await mf.dispose();
      rmSync(out, { recursive: true, force: true });
    },
  };
}

#!/usr/bin/env node
// `npm start`: runs Tally locally on http://localhost:8787 with local Durable Objects, KV and
// cache (workerd through `wrangler dev`), data kept in .tally-data/. Creates .dev.vars from
// .dev.vars.example on first run so the local tokens work out of the box.
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, readFileSync } from "node:fs";

const PORT = process.env.PORT ?? "8787";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local tokens only).");
}
const vars = Object.fromEntries(
  readFileSync(".dev.vars", "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
);

const wrangler = spawn(
  "wrangler",
  ["dev", "--ip", "127.0.0.1", "--port", PORT, "--persist-to", ".tally-data", "--show-interactive-dev-session=false"],
  { stdio: ["inherit", "pipe", "inherit"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);

let told = false;
wrangler.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  if (!told && /Ready on/.test(String(chunk))) {
    told = true;
    const base = `http://localhost:${PORT}`;
    const ingest = vars.INGEST_TOKEN ?? "<INGEST_TOKEN>";
    const admin = vars.ADMIN_TOKEN ?? "<ADMIN_TOKEN>";
    console.log(`
Tally is running on ${base}

Fill the "demo" namespace (in another terminal):
  curl -X POST ${base}/v1/namespaces/demo/events \\
    -H 'Authorization: Bearer ${ingest}' -H 'Content-Type: application/json' \\
    -d '{"events": [{"item": "v42", "type": "view", "actor": "u1"}, {"item": "v7", "type": "view", "weight": 2, "actor": "u2"}]}'

Then open the dashboard: ${base}/?ns=demo
  It updates by itself every refreshSeconds (10 s by default); send more events and watch.
  Type the admin token (${admin}) under "Token" to see the cache report, refresh and invalidate,
  and ${base}/ to list every namespace that holds data.

Precompute now (otherwise the refresh loop does it within refreshSeconds):
  curl -X POST ${base}/v1/namespaces/demo/refresh -H 'Authorization: Bearer ${admin}'

Read trending:
  curl -i '${base}/v1/namespaces/demo/trending?window=1h&limit=10'
`);
  }
});

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => wrangler.kill(signal));
wrangler.on("exit", (code) => process.exit(code ?? 0));

import { startService } from "./lib/server.mjs";
import { client } from "./lib/tally.mjs";
import { ingestCpu } from "./lib/ingest-cpu.mjs";
import { heaviest, whereItWent } from "./lib/profile.mjs";
import { readFileSync } from "node:fs";
const root = process.cwd();
const service = await startService(root, { log: console.log });
try {
  const api = client(service.base, service.vars);
  const out = await ingestCpu({ after: { service, api } }, { events: 200000, rounds: 1, profileTo: "/tmp/prof/ingest-{items}.cpuprofile" }, console.log);
  for (const items of [1000000, 1000]) {
    const p = JSON.parse(readFileSync(`/tmp/prof/ingest-${items}.cpuprofile`, "utf8"));
    console.log(items, JSON.stringify(whereItWent(p), null, 1));
    console.table(heaviest(p, 40));
  }
} finally { await service.stop(); }

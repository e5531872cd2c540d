import { startDirect } from "./lib/direct.mjs";
import { localVars } from "./lib/server.mjs";
import { workerdChildrenCpuSeconds } from "./lib/machine.mjs";
import { client } from "./lib/tally.mjs";
import { ingestCpu } from "./lib/ingest-cpu.mjs";
const root = process.cwd();
const direct = await startDirect(root, console.log);
try {
  const api = client(direct.base, localVars(root));
  const events = Number(process.argv[2] ?? 200000);
  const out = await ingestCpu({ d: { service: { ...direct, cpuSeconds: workerdChildrenCpuSeconds }, api } }, { events, rounds: Number(process.argv[3] ?? 3) }, console.log);
  for (const [k, v] of Object.entries(out.d)) console.log(k, JSON.stringify(v.cpuMicrosPerEvent), v.refreshShare.toFixed(2));
} finally { await direct.stop(); }

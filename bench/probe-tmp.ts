import { steadyCatalogue } from "/work/wt-memory/bench/lib/core-memory";
const n = Number(process.argv[2] ?? 4900);
const t = Number(process.argv[3] ?? 2) as 0 | 2;
steadyCatalogue(n, t, console.log);

// Node 20+ runs `tally/client` as an app would, imported by package name: a batch goes out with a
// batchId, answers come back with Dates, and refusals are typed. The fetch here stands in for the
// service; the client's behaviour against the real Worker is proved in test/client-*.test.ts.
import assert from "node:assert/strict";
import { TallyValidationError, createClient } from "tally/client";

const sent = [];
const fetch = async (url, init) => {
  sent.push({ url, init });
  if (url.endsWith("/events")) return Response.json({ accepted: JSON.parse(init.body).events.length, duplicate: false }, { status: 202 });
  if (url.includes("/stats")) return Response.json({ error: { code: "invalid_window", message: "no", field: "window", allowed: ["1h"] } }, { status: 400 });
  const t = "2026-11-21T19:00:00.000Z";
  return Response.json({ namespace: "n", window: "1h", rank: "top", type: null, from: t, to: t, computedAt: t, generation: 1, exact: true, items: [] }, { headers: { "X-Cache": "HIT-EDGE", ETag: '"e"', "X-Generation": "1" } });
};

const tally = createClient({ baseUrl: "http://tally.test", namespace: "n", fetch, flushOnPageHide: false });
for (const item of ["a", "b", "c"]) tally.track({ item });
await tally.flush();
assert.equal(sent.length, 1);
const batch = JSON.parse(sent[0].init.body);
assert.match(batch.batchId, /^[0-9a-f-]{36}$/);
assert.deepEqual(batch.events.map((e) => e.item), ["a", "b", "c"]);

const top = await tally.trending();
assert.equal(top.notModified, false);
assert.ok(top.body.computedAt instanceof Date);
assert.equal(top.cache, "HIT-EDGE");

await tally.trending({ segment: { dimension: "tag", value: "cats/dogs" } });
assert.equal(new URL(sent.at(-1).url).search, "?segment=tag%3Acats%2Fdogs");

await assert.rejects(tally.stats({ window: "1h" }), (e) => e instanceof TallyValidationError && e.code === "invalid_window" && e.field === "window");
console.log(`tally/client on Node ${process.versions.node}: ok`);

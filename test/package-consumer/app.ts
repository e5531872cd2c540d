/**
 * A TypeScript app importing `tally/client` by package name (checked by `npm run
 * check:client-package`): if the package's exports or declarations break, this stops compiling.
 */
import { TallyValidationError, createClient, type DimensionPage, type DimensionValue, type ReadResult, type SegmentStats, type SegmentTrending, type Trending } from "tally/client";

const tally = createClient({ baseUrl: "https://tally.example.com", namespace: "videos", token: "t" });

tally.track({ item: "v42", type: "view", ts: new Date() });

export async function topItems(etag: string | null): Promise<{ items: string[]; asOf: Date } | "unchanged"> {
  const answer: ReadResult<Trending> = await tally.trending({ window: "1h", limit: 10, etag });
  if (answer.notModified) return "unchanged";
  return { items: answer.body.items.map((i) => i.item), asOf: answer.body.computedAt };
}

export async function send(): Promise<number> {
  try {
    return (await tally.send([{ item: "v1" }])).accepted;
  } catch (error) {
    if (error instanceof TallyValidationError) return error.index ?? -1;
    throw error;
  }
}

// (v1.7) Segments: an event's dims, a segment's ranking and stats, and a dimension's breakdown.
tally.track({ item: "v42", dims: { category: "comedy", tag: ["cats", "funny"] } });

export async function segmentTop(): Promise<{ items: string[]; floor: number; value: string } | "unchanged"> {
  const answer: ReadResult<SegmentTrending> = await tally.trending({ segment: { dimension: "tag", value: "cats" }, rank: "hot" });
  if (answer.notModified) return "unchanged";
  return { items: answer.body.items.map((i) => i.item), floor: answer.body.floor, value: answer.body.segment.value };
}

export async function segmentWeight(): Promise<[number, number] | null> {
  const answer: ReadResult<SegmentStats> = await tally.stats({ window: "24h", segment: { dimension: "category", value: "comedy" } });
  return answer.notModified ? null : [answer.body.weight, answer.body.error.weight];
}

export async function everyValue(name: string): Promise<DimensionValue[]> {
  const values: DimensionValue[] = [];
  let cursor: string | null = null;
  do {
    const page: ReadResult<DimensionPage> = await tally.dimension(name, { window: "7d", limit: 50, cursor });
    if (page.notModified) break;
    values.push(...page.body.values);
    cursor = page.body.cursor;
  } while (cursor !== null);
  return values;
}

export async function refusedByType(): Promise<void> {
  const plain = await tally.trending({ window: "1h" });
  // @ts-expect-error a plain ranking names no segment and carries no floor
  if (!plain.notModified) void plain.body.floor;
  // @ts-expect-error a segment read ranks top, rising or hot: reach counts actors
  await tally.trending({ segment: { dimension: "tag", value: "cats" }, rank: "reach" });
  // @ts-expect-error a segment read counts every type
  await tally.trending({ segment: { dimension: "tag", value: "cats" }, type: "view" });
  // @ts-expect-error a segment's stats take no compare
  await tally.stats({ segment: { dimension: "tag", value: "cats" }, compare: "previous" });
  const stats = await tally.stats({ segment: { dimension: "tag", value: "cats" } });
  // @ts-expect-error a segment's stats keep no actors
  if (!stats.notModified) void stats.body.uniqueActors;
}

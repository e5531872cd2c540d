/**
 * A TypeScript app importing `tally/client` by package name (checked by `npm run
 * check:client-package`): if the package's exports or declarations break, this stops compiling.
 */
import { TallyValidationError, createClient, type ReadResult, type Trending } from "tally/client";

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

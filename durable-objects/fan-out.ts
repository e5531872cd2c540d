/**
 * Calls from one object to many. A request may hold at most 6 connections open at once
 * (Workers' limit on simultaneous open connections), so they go at most 6 at a time.
 */
export const MAX_OPEN_CONNECTIONS = 6;

/** `fn` for every item, at most MAX_OPEN_CONNECTIONS at a time; results in the items' order. */
export async function fanOut<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const at = next++;
      results[at] = await fn(items[at]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_OPEN_CONNECTIONS, items.length) }, lane));
  return results;
}

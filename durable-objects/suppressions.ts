/**
 * The namespace's suppressed items (content moderation): a SQLite table, so they survive eviction
 * and deploys, mirrored whole in memory, where every ranking consults it while it selects items
 * (the aggregator holds this list as its `Hidden` view). At most MAX_SUPPRESSIONS rows, a few MB
 * at worst (10,000 items of up to 256 bytes).
 */
import { MAX_SUPPRESSIONS, type Suppression } from "../src/shared/contract";
import { TallyError } from "../src/shared/errors";
import { suppressionBytes } from "../src/core/budget";
import type { GuardedSql } from "./guarded-sql";

export class SuppressionList {
  /** item -> when it was suppressed (epoch ms). */
  private readonly items = new Map<string, number>();
  /** Estimated bytes the list holds (budget.ts `suppressionBytes`). */
  bytes = 0;

  constructor(private readonly sql: GuardedSql) {}

  /** Reads every row into memory (start-up, after migrations), and returns the list. */
  load(): this {
    this.items.clear();
    this.bytes = 0;
    for (const row of this.sql.exec<{ item: string; suppressed_at: number }>("SELECT item, suppressed_at FROM suppressions")) {
      this.items.set(row.item, row.suppressed_at);
      this.bytes += suppressionBytes(row.item);
    }
    return this;
  }

  get size(): number {
    return this.items.size;
  }

  /** Every suppressed item with its time (epoch ms), for an export. */
  all(): { item: string; suppressedAt: number }[] {
    return [...this.items].map(([item, suppressedAt]) => ({ item, suppressedAt }));
  }

  has(item: string): boolean {
    return this.items.has(item);
  }

  /**
   * Suppresses `item` at `at`, durably. An item already suppressed keeps its first time. Refuses
   * the 10,001st item with `409 too_many_suppressions`, before anything is written.
   */
  add(item: string, at: number): { created: boolean; suppressedAt: number } {
    const since = this.items.get(item);
    if (since !== undefined) return { created: false, suppressedAt: since };
    if (this.items.size >= MAX_SUPPRESSIONS) {
      throw new TallyError(
        409,
        "too_many_suppressions",
        `A namespace holds at most ${MAX_SUPPRESSIONS} suppressed items; show some again (DELETE .../suppressions/{item}) first.`,
        { limit: MAX_SUPPRESSIONS },
      );
    }
    this.sql.exec("INSERT INTO suppressions (item, suppressed_at) VALUES (?, ?)", item, at);
    this.items.set(item, at);
    this.bytes += suppressionBytes(item);
    return { created: true, suppressedAt: at };
  }

  /** Shows `item` again; false if it was not suppressed. */
  remove(item: string): boolean {
    if (!this.items.has(item)) return false;
    this.sql.exec("DELETE FROM suppressions WHERE item = ?", item);
    this.items.delete(item);
    this.bytes -= suppressionBytes(item);
    return true;
  }

  /**
   * One page in ascending item order (SQLite's binary order of UTF-8), starting after `after`.
   * Pages continue from the last item listed, so suppressions added or removed meanwhile never
   * shift a later page.
   */
  page(after: string | null, limit: number): { suppressions: Suppression[]; cursor: string | null } {
    const rows = this.sql
      .exec<{ item: string; suppressed_at: number }>(
        "SELECT item, suppressed_at FROM suppressions WHERE item > ? ORDER BY item LIMIT ?",
        after ?? "",
        limit + 1,
      )
      .toArray();
    const more = rows.length > limit;
    const shown = more ? rows.slice(0, limit) : rows;
    return {
      suppressions: shown.map((r) => ({ item: r.item, suppressedAt: new Date(r.suppressed_at).toISOString() })),
      cursor: more ? shown[shown.length - 1]!.item : null,
    };
  }
}

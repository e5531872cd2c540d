/**
 * The KV mirror of a namespace's snapshots: one key per snapshot, versioned by generation.
 * KV takes at most one write per key per second, and values live at least 60 s (Workers KV limits).
 */
import { mirrorKey, mirrorKeyGeneration, mirrorPrefix, type MirrorMetadata } from "../src/shared/keys";
import type { SerialisedAnswer } from "../src/shared/contract";

const KV_MIN_WRITE_INTERVAL_MS = 1000;

export class SnapshotMirror {
  /** When each key was last written by this object, to respect KV's per-key write rate. */
  private readonly writtenAt = new Map<string, number>();

  constructor(private readonly kv: KVNamespace) {}

  /**
   * Mirrors one snapshot; a key written less than a second ago is skipped until the next refresh.
   * The refresh calls it as it computes each answer, so that it never holds every body at once.
   */
  put(namespace: string, generation: number, key: string, { body, computedAt }: SerialisedAnswer, expirationTtl: number): Promise<void> {
    const now = Date.now();
    const kvKey = mirrorKey(namespace, generation, key);
    if (now - (this.writtenAt.get(kvKey) ?? 0) < KV_MIN_WRITE_INTERVAL_MS) return Promise.resolve();
    this.writtenAt.set(kvKey, now);
    const metadata: MirrorMetadata = { computedAt, generation };
    return this.kv.put(kvKey, body, { expirationTtl, metadata });
  }

  /** Deletes every mirrored key of the namespace whose generation is below `generation`. */
  async dropOlderThan(namespace: string, generation: number): Promise<number> {
    const prefix = mirrorPrefix(namespace);
    let cursor: string | undefined;
    let dropped = 0;
    do {
      const page: KVNamespaceListResult<unknown> = await this.kv.list(cursor === undefined ? { prefix } : { prefix, cursor });
      const old = page.keys.filter((k) => (mirrorKeyGeneration(namespace, k.name) ?? -1) < generation);
      await Promise.all(old.map((k) => this.kv.delete(k.name)));
      dropped += old.length;
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor !== undefined);
    for (const key of this.writtenAt.keys()) if (key.startsWith(prefix)) this.writtenAt.delete(key);
    return dropped;
  }
}

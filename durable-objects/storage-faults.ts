/**
 * Test-only faults at the storage seam. Local workerd never fails a write on its own, so the
 * tests arm a fault here to prove that a failed checkpoint loses nothing. Production code only
 * ever calls `check`, which does nothing unless a test armed that point.
 *
 * - "checkpoint": the checkpoint's transaction, after its writes (store.ts).
 * - "merge": the namespace's object between a shard's pull and the merge of its delta
 *   (shard-merger.ts), as if it failed mid-merge.
 */
export type FaultPoint = "checkpoint" | "merge";

export class StorageFaults {
  private readonly armed = new Map<FaultPoint, number>();

  /** The next `times` passes through `point` throw. */
  arm(point: FaultPoint, times = 1): void {
    this.armed.set(point, times);
  }

  disarm(): void {
    this.armed.clear();
  }

  check(point: FaultPoint): void {
    const left = this.armed.get(point) ?? 0;
    if (left <= 0) return;
    this.armed.set(point, left - 1);
    throw new Error(`injected storage fault at ${point}`);
  }
}

/** One per isolate: tests run in the isolate of the objects they drive. */
export const storageFaults = new StorageFaults();

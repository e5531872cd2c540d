/**
 * The answers a namespace's object holds in memory, by snapshot key, within the room the refresh
 * gives them (budget.ts `answerRoom`): they count against the namespace's memory budget, beside
 * the aggregator. The refresh offers the planned answers first. One that does not fit is not held: it is mirrored to
 * KV all the same, and a read that reaches the object computes it.
 */
import type { SerialisedAnswer } from "../src/shared/contract";
import { MAP_ENTRY_BYTES, OBJECT_BYTES, SNAPSHOT_BUDGET_BYTES, stringBytes } from "../src/core/memory";

const answerBytes = (key: string, answer: SerialisedAnswer) => MAP_ENTRY_BYTES + OBJECT_BYTES + stringBytes(key) + stringBytes(answer.body);

export class HeldAnswers {
  private readonly answers = new Map<string, { answer: SerialisedAnswer; bytes: number }>();
  /** Estimated bytes held. */
  bytes = 0;

  constructor(private budgetBytes = SNAPSHOT_BUDGET_BYTES) {}

  get(key: string): SerialisedAnswer | undefined {
    return this.answers.get(key)?.answer;
  }

  /** Holds `answer` under `key` if it fits beside the others; false if it was not held. */
  hold(key: string, answer: SerialisedAnswer): boolean {
    this.drop(key);
    const bytes = answerBytes(key, answer);
    if (this.bytes + bytes > this.budgetBytes) return false;
    this.answers.set(key, { answer, bytes });
    this.bytes += bytes;
    return true;
  }

  private drop(key: string): void {
    const held = this.answers.get(key);
    if (!held) return;
    this.answers.delete(key);
    this.bytes -= held.bytes;
  }

  /** Drops every answer; with `budgetBytes`, those held from now on fit within that. */
  clear(budgetBytes = this.budgetBytes): void {
    this.answers.clear();
    this.bytes = 0;
    this.budgetBytes = budgetBytes;
  }

  get size(): number {
    return this.answers.size;
  }

  /** How many answers held have a key that `which` picks. */
  count(which: (key: string) => boolean): number {
    let n = 0;
    for (const key of this.answers.keys()) if (which(key)) n += 1;
    return n;
  }
}

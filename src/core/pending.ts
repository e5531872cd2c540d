/**
 * Pending events: accepted with a `ts` still ahead of the clock (up to 5 minutes, docs/api.md),
 * held until time reaches them, because a window `[from, to)` never counts an event with
 * `ts >= to`.
 *
 * The aggregator holds them through this interface and never keeps them itself: a flood of
 * future-stamped events with long distinct names must not cost memory per event. The namespace's
 * object holds them in SQLite (durable-objects/pending-events.ts), where they are durable the
 * moment they are accepted; `HeldInMemory` is the pure stand-in that tests and benchmarks use.
 */
import type { TallyEvent } from "../shared/contract";

/** A namespace holds at most this many pending events; a batch that would exceed it is refused
 * whole (`429 too_many_pending`). It bounds what one refresh counts when they all fall due. */
export const MAX_PENDING_EVENTS = 500_000;

/** Events counted per call of `takeDue`'s callback: the most that is parsed and held at once. */
export const DUE_CHUNK = 1000;

export interface PendingEvents {
  /** Pending events held and not yet taken. */
  readonly size: number;
  /** The earliest `ts` held and not yet taken; Infinity when none. */
  readonly nextDue: number;
  /** Holds events stamped at or after the time they were accepted. */
  hold(events: readonly TallyEvent[]): void;
  /**
   * Hands every held event with `ts < before` to `count`, in chunks of at most DUE_CHUNK, oldest
   * first; later calls never hand them again. Their stored copies go only once the state that
   * counts them is durable (`countedBefore`).
   */
  takeDue(before: number, count: (chunk: readonly TallyEvent[]) => void): void;
  /** Every event with a `ts` below this was handed to `takeDue`'s callback. */
  readonly countedBefore: number;
  /** Every event held and not yet taken (an export). */
  all(): TallyEvent[];
}

/** Pending events in a plain array: for the pure core's tests and benchmarks. */
export class HeldInMemory implements PendingEvents {
  private events: TallyEvent[] = [];
  countedBefore = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.events.length;
  }

  get nextDue(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.events) if (e.ts < next) next = e.ts;
    return next;
  }

  hold(events: readonly TallyEvent[]): void {
    this.events.push(...events);
  }

  takeDue(before: number, count: (chunk: readonly TallyEvent[]) => void): void {
    const due = this.events.filter((e) => e.ts < before).sort((a, b) => a.ts - b.ts);
    this.events = this.events.filter((e) => e.ts >= before);
    for (let at = 0; at < due.length; at += DUE_CHUNK) count(due.slice(at, at + DUE_CHUNK));
    this.countedBefore = Math.max(this.countedBefore, before);
  }

  all(): TallyEvent[] {
    return this.events.slice();
  }
}

/**
 * The `ts` from which an event accepted at `now` is held pending: `now`, or later if a refresh
 * already counted pending events up to a later time (the clock of an object may step back). An
 * event below that time is counted at once, since no later `takeDue` would hand it over.
 */
export function holdFrom(pending: PendingEvents, now: number): number {
  return Math.max(now, pending.countedBefore);
}

/** A batch accepted at `now`, split into the events counted at once and those held pending. */
export function splitDue(events: readonly TallyEvent[], pending: PendingEvents, now: number): { due: TallyEvent[]; ahead: TallyEvent[] } {
  const from = holdFrom(pending, now);
  const due: TallyEvent[] = [];
  const ahead: TallyEvent[] = [];
  for (const event of events) (event.ts < from ? due : ahead).push(event);
  return { due, ahead };
}

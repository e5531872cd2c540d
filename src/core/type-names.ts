/**
 * The type names a namespace counts by name. Any valid name is accepted at ingest, so an
 * unbounded set of names would cost a totals entry per name in every bucket of every tier, and
 * answers listing them all: 200,000 names once held 96 MB and made a 19 MB dashboard. So a
 * namespace tracks its declared types, and at most MAX_UNDECLARED_TYPES others (the first seen,
 * while any held bucket still counts them); events of any further type count under OTHER_TYPES.
 * Totals stay exact whatever the names: only the per-type breakdown folds.
 */
import type { TypeTotals } from "../shared/contract";
import type { Bucket } from "./bucket";
import { CONFIG_BOUNDS } from "./config";

/** The breakdown entry of the types not tracked by name. Type names match
 * `^[a-z0-9][a-z0-9_.:-]{0,63}$`, so no valid name can collide with it. */
export const OTHER_TYPES = "(other)";

/** Undeclared type names a namespace tracks by name. */
export const MAX_UNDECLARED_TYPES = 64;

export class TypeNames {
  private readonly undeclared = new Set<string>();

  constructor(private declared: ReadonlySet<string>) {}

  configure(declared: ReadonlySet<string>): void {
    this.declared = declared;
    for (const name of declared) this.undeclared.delete(name);
  }

  /** The name an event of `type` is counted under: its own, or OTHER_TYPES once the bound is full. */
  nameOf(type: string): string {
    if (this.declared.has(type) || this.undeclared.has(type)) return type;
    if (this.undeclared.size >= MAX_UNDECLARED_TYPES) return OTHER_TYPES;
    this.undeclared.add(type);
    return type;
  }

  /** Tracks the names a restored bucket counts (start-up, import): they stay tracked. */
  restore(bucket: Bucket): void {
    for (const type of bucket.totals.keys()) {
      if (type !== OTHER_TYPES && !this.declared.has(type)) this.undeclared.add(type);
    }
  }

  /** Forgets the undeclared names no held bucket counts any more, freeing their places. */
  retain(held: Iterable<Bucket>): void {
    if (this.undeclared.size === 0) return;
    const counted = new Set<string>();
    for (const bucket of held) for (const type of bucket.totals.keys()) if (this.undeclared.has(type)) counted.add(type);
    for (const type of this.undeclared) if (!counted.has(type)) this.undeclared.delete(type);
  }

  /** Names tracked beyond the declared ones. */
  get undeclaredCount(): number {
    return this.undeclared.size;
  }
}

/** Named entries a breakdown lists at most: the declared types and the tracked others. */
const MAX_NAMED_TYPES = CONFIG_BOUNDS.types.max + MAX_UNDECLARED_TYPES;

/**
 * Bounds a window's breakdown: buckets restored from before a config change can name more types
 * than are tracked now, so past MAX_NAMED_TYPES the lightest undeclared entries join OTHER_TYPES.
 */
export function foldTypes(byType: Map<string, TypeTotals>, declared: ReadonlySet<string>): Map<string, TypeTotals> {
  const named = [...byType].filter(([type]) => type !== OTHER_TYPES);
  if (named.length <= MAX_NAMED_TYPES) return byType;
  const rank = ([a, x]: [string, TypeTotals], [b, y]: [string, TypeTotals]) =>
    Number(declared.has(b)) - Number(declared.has(a)) || y.weight - x.weight || (a < b ? -1 : 1);
  named.sort(rank);
  const folded = new Map(named.slice(0, MAX_NAMED_TYPES));
  const other = { ...(byType.get(OTHER_TYPES) ?? { events: 0, weight: 0 }) };
  for (const [, t] of named.slice(MAX_NAMED_TYPES)) {
    other.events += t.events;
    other.weight += t.weight;
  }
  folded.set(OTHER_TYPES, other);
  return folded;
}

/**
 * Where a part of a namespace's object works: its SQLite (through the row guard), its state (for
 * `waitUntil`), and the namespace it serves. Handed over as one value, so that every part is made
 * alike and none holds more of the object than it needs.
 */
import type { GuardedSql } from "./guarded-sql";

export interface ObjectPart {
  readonly sql: GuardedSql;
  readonly ctx: DurableObjectState;
  readonly namespace: string;
}

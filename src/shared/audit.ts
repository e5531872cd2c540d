/**
 * The audit log's public shapes and its page cursor (docs/api.md, "Audit log"), shared by the
 * Worker, which validates a cursor at the door, and the objects that keep a log: each namespace's
 * object (its admin actions) and the registry (keys, and namespaces erased, whose own log goes
 * with them).
 */
import { invalid } from "./errors";

/** Who did it: the id of a key, or the name of the environment token (`ADMIN_TOKEN`). */
export type Actor = string;

export type AuditAction =
  | "config.put"
  | "namespace.refresh"
  | "namespace.invalidate"
  | "namespace.delete"
  | "namespace.import"
  | "suppression.put"
  | "suppression.delete"
  | "key.create"
  | "key.revoke";

export interface AuditEntry {
  at: string;
  actor: Actor;
  action: AuditAction;
  /** What it acted on: the namespace, an item, a key id. */
  target: string | null;
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Continues the listing (older entries); null on the last page. */
  cursor: string | null;
}

/** A log keeps at most this many entries, none older than this: the oldest go first. */
export const AUDIT_BOUNDS = { entries: 10_000, maxAgeDays: 90 } as const;

/** Entries per `GET .../audit` page: the default and the most a caller may ask for. */
export const AUDIT_PAGE = { default: 100, max: 1000 } as const;

/** The cursor is the sequence number of the last entry of a page, as `a<seq>`: opaque to clients. */
export function encodeAuditCursor(seq: number): string {
  return `a${seq}`;
}

/** The sequence number a page continues before, or null from the newest entry. */
export function parseAuditCursor(cursor: string | undefined): number | null {
  if (cursor === undefined || cursor === "") return null;
  const match = /^a([1-9]\d{0,15})$/.exec(cursor);
  if (!match) throw invalid("invalid_cursor", "cursor is not one this service gave; start again without it.", { field: "cursor" });
  return Number(match[1]);
}

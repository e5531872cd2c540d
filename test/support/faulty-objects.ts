/**
 * Test-only NamespaceAggregators (partyserver's pattern: one tiny subclass per behaviour, each
 * with its own binding in vitest.config.ts, exported by test/support/test-worker.ts), and the
 * faults tests set on a live object. Each fault is injected at a seam the platform gives the
 * object (its storage, its bindings); nothing inside the class is touched.
 */
import { runInDurableObject } from "cloudflare:test";
import { NamespaceAggregator } from "../../durable-objects/namespace-aggregator";
import { LiveRelay } from "../../durable-objects/live-relay";
import { parseShardObjectName } from "../../src/shared/keys";

/** `target`'s property, with methods bound to it (native objects check their receiver). */
function own<T extends object>(target: T, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop) as unknown;
  return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}

/** Makes the next `count` SQL statements of `storage` that `matches` accepts throw `message`. The
 * runtime insists on its own DurableObjectState, so the fault is set on its SqlStorage (one
 * object per storage, the one the object's own code reaches through `ctx.storage`). */
function failNextStatements(storage: DurableObjectStorage, count: number, matches: (query: string) => boolean, message: string): void {
  const sql = storage.sql;
  const exec = sql.exec.bind(sql);
  let failures = count;
  sql.exec = ((query: string, ...bindings: unknown[]) => {
    if (failures > 0 && matches(query)) {
      failures -= 1;
      throw new Error(message);
    }
    return exec(query, ...bindings);
  }) as typeof sql.exec;
}

/** Its first start-up fails: the first SQL statement it runs throws, as SQLite might once. */
export class FlakyStartAggregator extends NamespaceAggregator {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    failNextStatements(ctx.storage, 1, () => true, "injected fault: SQLite unavailable at start-up");
  }
}

/** `kv` whose every write fails. */
function failingWrites(kv: KVNamespace): KVNamespace {
  return new Proxy(kv, {
    get: (target, prop) =>
      prop === "put" ? () => Promise.reject(new Error("injected fault: KV unavailable")) : own(target, prop),
  });
}

/** Its KV mirror cannot be written: every refresh fails at its last step. */
export class KvDownAggregator extends NamespaceAggregator {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, { ...env, SNAPSHOTS: failingWrites(env.SNAPSHOTS) });
  }
}

/**
 * The next `times` checkpoints of the namespace's object `stub` fail after their writes, as
 * SQLite may fail any write (local workerd never does on its own): the truncation of the batch
 * log, a checkpoint's last statement, throws inside its transaction, which rolls back whole.
 */
export function failCheckpoints(stub: DurableObjectStub<NamespaceAggregator>, times = 1): Promise<void> {
  return runInDurableObject(stub, (_, state) => {
    failNextStatements(state.storage, times, (query) => query.startsWith("DELETE FROM batch_log"), "injected storage fault at checkpoint");
  });
}

export type ShardStub = ReturnType<Env["INGEST_SHARDS"]["get"]>;

/** What a test puts between a namespace's object and shard `index`: `real`, or what stands in
 * for it (a stub that races, counts or fails where the test needs it). */
export type ShardStandIn = (index: number, real: ShardStub) => unknown;

/** Per namespace, the stand-in its object reaches its shards through. One per isolate: the
 * tests run in the isolate of the objects they drive. */
const standIns = new Map<string, ShardStandIn>();

/** Runs `body` while the object of `namespace` reaches its shards through `stand`. The Worker's
 * routes are untouched, so batches still reach the real shards. */
export async function withShardStandIn<T>(namespace: string, stand: ShardStandIn, body: () => Promise<T>): Promise<T> {
  standIns.set(namespace, stand);
  try {
    return await body();
  } finally {
    standIns.delete(namespace);
  }
}

/** `shards` as the object of `namespace` sees it: each stub through the namespace's stand-in,
 * when a test set one; the real stub otherwise. */
function shardsThroughStandIns(namespace: string, shards: Env["INGEST_SHARDS"]): Env["INGEST_SHARDS"] {
  return new Proxy(shards, {
    get: (target, prop) => {
      if (prop !== "get") return own(target, prop);
      return (id: DurableObjectId) => {
        const real = target.get(id);
        const stand = standIns.get(namespace);
        return stand ? stand(parseShardObjectName(id.name ?? "")?.index ?? -1, real) : real;
      };
    },
  });
}

/**
 * The namespace's object as the workerd tests bind it (AGGREGATOR in vitest.config.ts): the real
 * class, whose shard binding passes through the stand-in a test set for its namespace
 * (`withShardStandIn`), and is the real binding whenever none is set.
 */
export class ShardStandInAggregator extends NamespaceAggregator {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, { ...env, INGEST_SHARDS: shardsThroughStandIns(ctx.id.name ?? "", env.INGEST_SHARDS) });
  }
}

/** A LiveRelay that holds 2 sockets, so that tests reach a full relay and the next one with a few
 * sockets (bound as LIVE_RELAYS in vitest.config.ts for every workerd test). */
export class SmallLiveRelay extends LiveRelay {
  protected override readonly capacity = 2;
}

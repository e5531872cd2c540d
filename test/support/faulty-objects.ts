/**
 * Test-only NamespaceAggregators, one per injected fault (partyserver's pattern: one tiny subclass
 * per behaviour, each with its own binding in vitest.config.ts, exported by
 * test/support/test-worker.ts). Each fault is injected at a seam the platform gives the object (its
 * storage, its bindings); nothing inside the class is touched.
 */
import { NamespaceAggregator } from "../../durable-objects/namespace-aggregator";

/** `target`'s property, with methods bound to it (native objects check their receiver). */
function own<T extends object>(target: T, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop) as unknown;
  return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
}

/** Makes the next `count` SQL statements of `storage` throw. The runtime insists on its own
 * DurableObjectState, so the fault is set on its SqlStorage (one object per storage). */
function failNextStatements(storage: DurableObjectStorage, count: number): void {
  const sql = storage.sql;
  const exec = sql.exec.bind(sql);
  let failures = count;
  sql.exec = ((query: string, ...bindings: unknown[]) => {
    if (failures > 0) {
      failures -= 1;
      throw new Error("injected fault: SQLite unavailable at start-up");
    }
    return exec(query, ...bindings);
  }) as typeof sql.exec;
}

/** Its first start-up fails: the first SQL statement it runs throws, as SQLite might once. */
export class FlakyStartAggregator extends NamespaceAggregator {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    failNextStatements(ctx.storage, 1);
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

/**
 * The Worker as the tests run it: the real entry (its default export and object classes), plus the
 * test-only object classes that vitest.config.ts binds. Only tests ever load this module.
 */
export { default, IngestShard, LiveRelay, NamespaceAggregator, NamespaceRegistry, QuotaCounter } from "../../src/index";
export { FlakyStartAggregator, KvDownAggregator, ShardStandInAggregator, SmallLiveRelay } from "./faulty-objects";

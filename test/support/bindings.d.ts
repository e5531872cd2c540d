/** Bindings that only the tests have (vitest.config.ts; the classes are in faulty-objects.ts). */
interface TestOnlyBindings {
  /** Objects whose first start-up fails. */
  FLAKY_START: DurableObjectNamespace<import("./faulty-objects").FlakyStartAggregator>;
  /** Objects whose KV mirror cannot be written. */
  KV_DOWN: DurableObjectNamespace<import("./faulty-objects").KvDownAggregator>;
}

declare namespace Cloudflare {
  interface Env extends TestOnlyBindings {}
}

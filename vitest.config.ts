import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects, one `npm test`:
// - "workerd": every test/*.test.ts and test/shards/*.test.ts runs inside workerd with the
//   bindings of wrangler.toml. Storage is isolated per file, not per test, so every test uses its
//   own namespace name.
// - "core": test/core/** is the pure aggregation core, run in plain Node: it uses no runtime API,
//   and Node proves that it does not.
export default defineConfig({
  test: {
    // workerd logs an exception thrown out of an object's RPC method as uncaught, and the plugin
    // reports it as an unhandled error. test/startup.test.ts throws one on purpose (a failed
    // start-up is re-thrown to its caller, then retried): that one, and only that one, is expected.
    onUnhandledError: (error) => (error.message.startsWith("injected fault: SQLite unavailable at start-up") ? false : undefined),
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // The real Worker plus the test-only object classes (test/support/faulty-objects.ts).
            main: "./test/support/test-worker.ts",
            miniflare: {
              durableObjects: {
                // The real NamespaceAggregator, its shard binding passed through a test's stand-in
                // when a test sets one for its namespace (and the real binding otherwise): the
                // Worker and the shards reach it as in production, and a test can still race, count
                // or fail the object's calls to its shards.
                AGGREGATOR: { className: "ShardStandInAggregator", useSQLite: true },
                FLAKY_START: { className: "FlakyStartAggregator", useSQLite: true },
                KV_DOWN: { className: "KvDownAggregator", useSQLite: true },
                // Relays of 2 sockets: a few sockets fill one and spill to the next.
                LIVE_RELAYS: { className: "SmallLiveRelay", useSQLite: true },
              },
              // Tokens for tests; production tokens are secrets (`wrangler secret put`). Every
              // token is set here, so that a developer's own .dev.vars cannot change what tests see:
              // READ_TOKEN "" means unset (reads are public).
              bindings: {
                ADMIN_TOKEN: "test-admin",
                INGEST_TOKEN: "test-ingest",
                READ_TOKEN: "",
                LOCAL_LAYER_SWITCH: "on",
                LOCAL_WEBHOOK_LOOPBACK: "on",
              },
            },
          }),
        ],
        test: {
          name: "workerd",
          include: ["test/*.test.ts", "test/shards/*.test.ts"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "core",
          include: ["test/core/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
        },
      },
    ],
  },
});

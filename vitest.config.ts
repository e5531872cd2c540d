import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Every test file runs inside workerd with the bindings of wrangler.toml. Storage is isolated per
// file, not per test, so every test uses its own namespace name.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // Tokens for tests; production tokens are secrets (README, "Operating Tally").
        bindings: {
          ADMIN_TOKEN: "test-admin",
          INGEST_TOKEN: "test-ingest",
          LOCAL_LAYER_SWITCH: "on",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
  },
});

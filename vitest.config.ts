import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Every test file runs inside workerd with the bindings of wrangler.toml. Storage is isolated per
// file, not per test, so every test uses its own namespace name.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        // Tokens for tests; production tokens are secrets (README, "Operating Tally"). Every
        // token is set here, so that a developer's own .dev.vars cannot change what tests see:
        // READ_TOKEN "" means unset (reads are public).
        bindings: {
          ADMIN_TOKEN: "test-admin",
          INGEST_TOKEN: "test-ingest",
          READ_TOKEN: "",
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

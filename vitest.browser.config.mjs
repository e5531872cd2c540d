// `npm run test:browser`: the dashboard page in a real browser (Debian's chromium through
// playwright-core), against Tally under `wrangler dev`. Plain Node, not workerd, and kept out of
// `npm test` (vitest.config.ts includes only test/**/*.test.ts). Files run one after another: each
// starts its own wrangler dev, and the machine's cores are shared.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/browser/**/*.browser.mjs"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 180_000,
    teardownTimeout: 30_000,
    // A poll for the page to catch up (a refresh, a re-read report) is bounded but generous: under
    // wrangler dev on a shared 2-core machine one round trip can take seconds.
    expect: { poll: { timeout: 15_000, interval: 100 } },
  },
});

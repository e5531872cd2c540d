// `npm run lint:openapi` (part of `npm test`): writes the description GET /openapi.json serves to
// a temporary file, built by the same code the Worker runs (src/worker/openapi.ts, imported
// through tsx), and lints it with Redocly (redocly.yaml) and Spectral (.spectral.yaml). Any error
// or warning of either fails the run: a description that only mostly follows the rules trips up
// the generators and reference pages (GET /docs) that read it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openApiJson } from "../src/worker/openapi.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

/** The JavaScript file of a package's command, run with this Node rather than through
 * node_modules/.bin, whose shims differ between platforms. */
function bin(pkg, name) {
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const { bin: bins } = JSON.parse(readFileSync(manifestPath, "utf8"));
  return join(dirname(manifestPath), typeof bins === "string" ? bins : bins[name]);
}

const dir = mkdtempSync(join(tmpdir(), "tally-openapi-"));
const file = join(dir, "openapi.json");
writeFileSync(file, openApiJson());

// Neither linter may reach the network: no usage reports, no update checks.
const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" };
const linters = [
  ["Redocly", bin("@redocly/cli", "redocly"), ["lint", "--config", join(root, "redocly.yaml"), file]],
  ["Spectral", bin("@stoplight/spectral-cli", "spectral"), ["lint", "--ruleset", join(root, ".spectral.yaml"), "--fail-severity", "warn", file]],
];
const failed = [];
try {
  for (const [name, script, args] of linters) {
    console.log(`\n${name}: linting the description of GET /openapi.json`);
    const run = spawnSync(process.execPath, [script, ...args], { cwd: root, env, stdio: "inherit" });
    if (run.status !== 0) failed.push(`${name} (exit ${run.status ?? run.signal})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed.length > 0) {
  console.error(`\nThe OpenAPI description has problems: ${failed.join(", ")}.`);
  process.exit(1);
}
console.log("\nThe OpenAPI description is clean under both linters.");

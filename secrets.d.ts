/**
 * The secrets and local-only vars of `Env`. `wrangler types` generates worker-configuration.d.ts
 * from wrangler.toml alone (`npm run types` passes `--env-file /dev/null`, so a developer's
 * .dev.vars cannot leak into it), and secrets are not in wrangler.toml: they are declared here and
 * merged into the generated interfaces. Wrangler's `[secrets] required` is not used, because it
 * would make every listed secret mandatory on deploy (READ_TOKEN is optional, and
 * LOCAL_LAYER_SWITCH must never be set in production) and would hide the other .dev.vars keys
 * from `wrangler dev`. Every one of them may be unset, so each is optional.
 */
interface TallySecrets {
  /** May do everything. Unset: every admin route is closed (403). */
  ADMIN_TOKEN?: string;
  /** May post events and read. Unset: ingest is closed (403). */
  INGEST_TOKEN?: string;
  /** May read. Unset (or empty): reads are public. */
  READ_TOKEN?: string;
  /** Local-only, from .dev.vars: "on" lets a loopback read choose one layer with X-Tally-Layer. */
  LOCAL_LAYER_SWITCH?: string;
  /** Local-only, from .dev.vars: "on" lets a webhook's url be http to this machine's loopback
   * (a receiver under test). Unset in production: receivers must be https. */
  LOCAL_WEBHOOK_LOOPBACK?: string;
}

interface Env extends TallySecrets {}

declare namespace Cloudflare {
  interface Env extends TallySecrets {}
}

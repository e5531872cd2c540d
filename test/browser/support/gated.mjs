/**
 * A file's Tally with every token set, so reads are gated (READ_TOKEN), and a browser: started
 * before the file's tests and stopped after them. The files that need a token to read use it.
 */
import { afterAll, beforeAll } from "vitest";
import { launch } from "./browser.mjs";
import { startTally, tally } from "./service.mjs";

/** @returns {{service: any, browser: any, api: ReturnType<typeof tally>}} filled in before the tests run */
export function gatedTally(tokens, launchOptions) {
  const held = {};
  beforeAll(async () => {
    held.service = await startTally({ ADMIN_TOKEN: tokens.admin, INGEST_TOKEN: tokens.ingest, READ_TOKEN: tokens.read });
    held.api = tally(held.service.base, tokens);
    held.browser = await launch(launchOptions);
  });
  afterAll(async () => {
    await held.browser?.close();
    await held.service?.stop();
  });
  return held;
}

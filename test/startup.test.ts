/**
 * Start-up (as partyserver does it): every entry point awaits one start-up, run inside
 * blockConcurrencyWhile; a failed start is re-thrown outside the gate, so the object is not reset
 * and the next call tries again. The failed call answers `500 internal`. Proved with an object whose first start-up fails.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "../src/shared/contract";
import { freshNamespace } from "./support/http";

const flaky = (ns: string) => env.FLAKY_START.get(env.FLAKY_START.idFromName(ns));

describe("a failed start-up", () => {
  it("fails the call that started it, and is retried by the next call, which succeeds", async () => {
    const stub = flaky(freshNamespace("startup"));
    // The object answers the failure in its category (a fault of the service: 500 internal).
    expect(await stub.getConfig()).toMatchObject({ ok: false, error: { status: 500, code: "internal" } });
    expect(await stub.getConfig()).toEqual({ ok: true, value: DEFAULT_CONFIG });
  });

  it("leaves no half-built state: the retried start-up ingests and answers like any object", async () => {
    const stub = flaky(freshNamespace("startup"));
    expect(await stub.describe()).toMatchObject({ ok: false, error: { status: 500, code: "internal" } });
    expect(await stub.ingest({ events: [{ item: "a", type: "view", ts: Date.now() }] })).toEqual({
      ok: true,
      value: { accepted: 1, duplicate: false },
    });
    const described = await stub.describe();
    expect(described.ok && described.value.exists).toBe(true);
  });
});

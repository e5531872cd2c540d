/**
 * tally/client's delivery promises, against the real Worker with failures injected between the
 * client and it: exactly-once counting across retries, backoff that honours Retry-After, no retry
 * of what cannot succeed, onError for every batch finally refused, and the page-hide flush.
 * Time is driven through a ManualScheduler: nothing sleeps.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { TallyNetworkError, TallyUnavailableError, TallyValidationError, createClient, type EventInput, type Fetch, type TallyApiError } from "../src/client";
import { ManualScheduler, batchesOf, countedEvents, recordingFetch, service } from "./support/client";
import { freshNamespace } from "./support/http";

const events = (n: number) => Array.from({ length: n }, (_, i) => ({ item: `item-${i % 40}` }));

/** Every refusal reported to onError, with its events. */
function refusals() {
  const reported: { error: TallyApiError; events: EventInput[] }[] = [];
  return { reported, onError: (error: TallyApiError, events: EventInput[]) => void reported.push({ error, events }) };
}

/** Lets the Worker handle every request, then loses the answer of the first `lost` tries of each
 * batch, as a dropped connection would after the service counted it. */
function losingAnswers(inner: Fetch, lost: number): Fetch {
  const tries = new Map<string, number>();
  return async (url, init) => {
    const res = await inner(url, init);
    const batchId = (JSON.parse(String(init.body)) as { batchId: string }).batchId;
    const n = (tries.get(batchId) ?? 0) + 1;
    tries.set(batchId, n);
    if (n <= lost) {
      await res.body?.cancel();
      throw new TypeError("injected fault: the connection dropped before the answer arrived");
    }
    return res;
  };
}

/** Answers `status` (with `headers`) for the first `times` tries without reaching the Worker. */
function refusingFirst(inner: Fetch, times: number, status: number, headers: Record<string, string> = {}): Fetch {
  let calls = 0;
  return (url, init) => {
    calls += 1;
    if (calls <= times) return Promise.resolve(Response.json({ error: { code: "unavailable", message: "injected" } }, { status, headers }));
    return inner(url, init);
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("exactly once", () => {
  it("counts every event once when answers are lost after the service counted them, retrying under the same batchId", async () => {
    const ns = freshNamespace("dl");
    const scheduler = new ManualScheduler();
    const { fetch, sent } = recordingFetch();
    const { reported, onError } = refusals();
    const tally = createClient({ ...service(ns), fetch: losingAnswers(fetch, 2), scheduler, onError, random: () => 0.5 });
    for (const e of events(2300)) tally.track(e);
    await scheduler.drive(tally.flush());

    const batches = batchesOf(sent);
    expect(batches).toHaveLength(9); // 3 batches × (2 lost answers + 1 acknowledged)
    const ids = [...new Set(batches.map((b) => b.batchId))];
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(batches.filter((b) => b.batchId === id)).toHaveLength(3);
    expect(reported).toEqual([]);
    expect(await countedEvents(ns)).toBe(2300);
  });

  it("send() retries a lost answer under its batchId and still counts once", async () => {
    const ns = freshNamespace("dl");
    const scheduler = new ManualScheduler();
    const { fetch } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch: losingAnswers(fetch, 1), scheduler });
    // The second try finds the batch already counted: the service says so, and counts nothing.
    expect(await scheduler.drive(tally.send(events(5)))).toEqual({ accepted: 5, duplicate: true });
    expect(await countedEvents(ns)).toBe(5);
  });
});

describe("retries", () => {
  it("wait at least what Retry-After asks on 503, then deliver", async () => {
    const ns = freshNamespace("dl");
    const scheduler = new ManualScheduler();
    const { fetch } = recordingFetch();
    const tally = createClient({ ...service(ns), fetch: refusingFirst(fetch, 2, 503, { "Retry-After": "7" }), scheduler, random: () => 0 });
    tally.track({ item: "a" });
    await scheduler.drive(tally.flush());
    expect(scheduler.waits.filter((ms) => ms >= 7000)).toHaveLength(2);
    expect(await countedEvents(ns)).toBe(1);
  });

  it("stop retrying when Retry-After asks for longer than maxDelayMs, and report the batch", async () => {
    const scheduler = new ManualScheduler();
    const { fetch } = recordingFetch();
    let tries = 0;
    const overloaded: Fetch = (url, init) => {
      tries += 1;
      return refusingFirst(fetch, 1, 429, { "Retry-After": "3600" })(url, init);
    };
    const { reported, onError } = refusals();
    const tally = createClient({ ...service(freshNamespace("dl")), fetch: overloaded, scheduler, onError });
    tally.track({ item: "a" });
    await scheduler.drive(tally.flush());
    expect(tries).toBe(1);
    expect(reported.map((r) => [r.error.status, r.error.retryAfterMs, r.events.length])).toEqual([[429, 3_600_000, 1]]);
  });

  it("retry 429 and 408 with exponential backoff bounded by maxDelayMs", async () => {
    const ns = freshNamespace("dl");
    const scheduler = new ManualScheduler();
    const { fetch } = recordingFetch();
    const retry = { attempts: 6, baseDelayMs: 100, maxDelayMs: 350 };
    const flaky = refusingFirst(refusingFirst(fetch, 2, 408), 2, 429);
    // random() just under 1 makes each backoff its upper bound: 100, 200, 350 (capped), 350.
    const tally = createClient({ ...service(ns), fetch: flaky, scheduler, retry, random: () => 0.999999 });
    await scheduler.drive(tally.send([{ item: "a" }]));
    expect(scheduler.waits).toEqual([99, 199, 349, 349]);
    expect(await countedEvents(ns)).toBe(1);
  });

  it("never retry a 400: one request, and onError gets the refusal with the batch's events", async () => {
    const ns = freshNamespace("dl");
    const scheduler = new ManualScheduler();
    const { fetch, sent } = recordingFetch();
    const { reported, onError } = refusals();
    const tally = createClient({ ...service(ns), fetch, scheduler, onError });
    tally.track({ item: "fine" });
    tally.track({ item: "" });
    await scheduler.drive(tally.flush());
    expect(sent).toHaveLength(1);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.error).toBeInstanceOf(TallyValidationError);
    expect(reported[0]!.error).toMatchObject({ code: "invalid_event", index: 1, field: "item" });
    expect(reported[0]!.events).toEqual([{ item: "fine" }, { item: "" }]);
  });

  it("never retry a 500", async () => {
    const scheduler = new ManualScheduler();
    let tries = 0;
    const failing: Fetch = () => {
      tries += 1;
      return Promise.resolve(Response.json({ error: { code: "internal_error", message: "injected" } }, { status: 500 }));
    };
    const tally = createClient({ ...service(freshNamespace("dl")), fetch: failing, scheduler });
    await expect(scheduler.drive(tally.send([{ item: "a" }]))).rejects.toMatchObject({ status: 500, code: "internal_error" });
    expect(tries).toBe(1);
  });

  it("give up after `attempts` tries without an answer, and report the batch to onError", async () => {
    const scheduler = new ManualScheduler();
    let tries = 0;
    const unreachable: Fetch = () => {
      tries += 1;
      return Promise.reject(new TypeError("injected fault: no route to host"));
    };
    const { reported, onError } = refusals();
    const tally = createClient({ ...service(freshNamespace("dl")), fetch: unreachable, scheduler, onError, retry: { attempts: 3 } });
    tally.track({ item: "a" });
    tally.track({ item: "b" });
    await scheduler.drive(tally.flush());
    expect(tries).toBe(3);
    expect(reported).toHaveLength(1);
    expect(reported[0]!.error).toBeInstanceOf(TallyNetworkError);
    expect(reported[0]!.events.map((e) => e.item)).toEqual(["a", "b"]);
  });

  it("report a batch still refused with 503 after every attempt as a TallyUnavailableError", async () => {
    const scheduler = new ManualScheduler();
    const { fetch } = recordingFetch();
    const { reported, onError } = refusals();
    const tally = createClient({ ...service(freshNamespace("dl")), fetch: refusingFirst(fetch, 99, 503), scheduler, onError, retry: { attempts: 2 } });
    tally.track({ item: "a" });
    await scheduler.drive(tally.flush());
    expect(reported.map((r) => r.error)).toEqual([expect.any(TallyUnavailableError)]);
    expect(reported[0]!.error.status).toBe(503);
  });
});

describe("in a browser", () => {
  /** A stand-in for the page: the client looks only for addEventListener and visibilityState. */
  function fakePage() {
    const document = Object.assign(new EventTarget(), { visibilityState: "visible" });
    const window = new EventTarget();
    vi.stubGlobal("document", document);
    vi.stubGlobal("window", window);
    return { document, window };
  }

  it("flushes with keepalive when the page is hidden, before the delay runs out", async () => {
    const { document } = fakePage();
    const ns = freshNamespace("pg");
    const scheduler = new ManualScheduler();
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), flushOnPageHide: true, fetch, scheduler, flushDelayMs: 60_000 });
    tally.track({ item: "a" });
    tally.track({ item: "b" });
    document.visibilityState = "hidden";
    document.dispatchEvent(new Event("visibilitychange"));
    expect(tally.queued).toBe(0);
    await scheduler.drive(tally.flush());
    expect(sent.map((r) => r.keepalive)).toEqual([true]);
    expect(await countedEvents(ns)).toBe(2);
    await tally.close();
  });

  it("flushes on pagehide, keeping each keepalive batch within the browser's 64 KiB budget", async () => {
    const { window } = fakePage();
    const ns = freshNamespace("pg");
    const scheduler = new ManualScheduler();
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(ns), flushOnPageHide: true, fetch, scheduler });
    const big = (i: number) => ({ item: `${"x".repeat(200)}-${i}` });
    for (let i = 0; i < 600; i++) tally.track(big(i)); // ~130 KB: more than one keepalive budget
    window.dispatchEvent(new Event("pagehide"));
    const keptAlive = sent.length;
    expect(tally.queued).toBeGreaterThan(0); // what did not fit waits for the next flush
    await scheduler.drive(tally.flush());
    const bytes = sent.slice(0, keptAlive).reduce((sum, r) => sum + new TextEncoder().encode(r.body ?? "").length, 0);
    expect(bytes).toBeLessThanOrEqual(64 * 1024);
    expect(sent.slice(0, keptAlive).every((r) => r.keepalive)).toBe(true);
    expect(await countedEvents(ns)).toBe(600);
    await tally.close();
  });

  it("stops watching the page after close()", async () => {
    const { document } = fakePage();
    const { fetch, sent } = recordingFetch();
    const tally = createClient({ ...service(freshNamespace("pg")), flushOnPageHide: true, fetch, scheduler: new ManualScheduler() });
    await tally.close();
    tally.track({ item: "a" });
    document.visibilityState = "hidden";
    document.dispatchEvent(new Event("visibilitychange"));
    expect(tally.queued).toBe(1);
    expect(sent).toHaveLength(0);
  });
});

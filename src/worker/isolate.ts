/**
 * What one Worker isolate remembers between requests: namespace descriptors, answers, read
 * counts and the misses in flight. An isolate serves many requests, so these memories live as long
 * as it does; the runtime may drop the isolate at any time, so nothing here must survive it
 * (Workers: in-memory state goes away on eviction or deploy). index.ts makes one per isolate; a
 * test makes its own with `createIsolate`, so it starts empty and may bring its own clock.
 */
import { Descriptors } from "./descriptors";
import { IsolateAnswers } from "./isolate-answers";
import { PendingRefusals } from "./pending-refusals";
import { ReadCounter } from "./read-counts";
import { ReadPath } from "./read-path";

export interface Isolate {
  descriptors: Descriptors;
  isolateAnswers: IsolateAnswers;
  /** Namespaces that refused future-stamped events lately (pending-refusals.ts). */
  pendingRefusals: PendingRefusals;
  readCounts: ReadCounter;
  reads: ReadPath;
}

export function createIsolate(options: { now?: () => number; isolateAnswers?: IsolateAnswers } = {}): Isolate {
  const isolateAnswers = options.isolateAnswers ?? new IsolateAnswers();
  const readCounts = new ReadCounter(options.now);
  return {
    descriptors: new Descriptors(options.now),
    isolateAnswers,
    pendingRefusals: new PendingRefusals(options.now),
    readCounts,
    reads: new ReadPath(isolateAnswers, readCounts),
  };
}

/**
 * Waits for something the runtime does on its own schedule (a socket's message, a delivery sent in
 * `waitUntil`): resolves once `done` holds, yielding to the event loop between checks, and fails
 * after a bounded number of turns. Counted in turns, not by the clock, because some tests drive
 * `Date`; it never stands in for a time a test could drive.
 */
export async function eventually(done: () => boolean | Promise<boolean>, what = "the condition", turns = 500): Promise<void> {
  for (let turn = 0; !(await done()); turn++) {
    if (turn > turns) throw new Error(`never held: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

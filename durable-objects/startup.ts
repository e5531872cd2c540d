/**
 * The one start-up of every object of Tally: every entry point awaits `ready()` first, and the
 * object's `start` runs once, inside blockConcurrencyWhile (its only proper use: nothing else
 * runs until the state is rebuilt from SQLite, and its 30 s limit bounds it). A failed start
 * leaves the status at "zero" and re-throws outside the gate, so the next call tries again; a
 * throw inside the gate would reset the object instead.
 */
export class Startup {
  private status: "zero" | "starting" | "started" = "zero";
  private running: Promise<void> | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly start: () => Promise<void> | void,
  ) {}

  async ready(): Promise<void> {
    if (this.status === "started") return;
    this.running ??= (async () => {
      this.status = "starting";
      let failure: unknown;
      await this.ctx.blockConcurrencyWhile(async () => {
        try {
          await this.start();
        } catch (error) {
          failure = error;
        }
      });
      if (failure !== undefined) {
        this.reset();
        throw failure;
      }
      this.status = "started";
    })();
    await this.running;
  }

  /** Memory can no longer be trusted (a merge failed part-way): the next call starts again. */
  reset(): void {
    this.status = "zero";
    this.running = undefined;
  }
}

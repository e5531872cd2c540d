/** A stored state this build cannot read: start-up refuses it loudly, it never guesses. */
export class UnknownFormatError extends Error {
  constructor(what: string, found: unknown, known: number) {
    super(`stored ${what} has format ${String(found)}; this build reads format ${known} only`);
    this.name = "UnknownFormatError";
  }
}

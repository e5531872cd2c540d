/**
 * Measurement 6 of an earlier commit's core, in the same run as this build's: its tree from git
 * (`checkoutBefore`), its own `bench/core.ts --only scale` in a child Node process (the same
 * generator and sizes, since they are that commit's), its JSON read back.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
// @ts-expect-error a plain ES module of the bench, without types
import { checkoutBefore } from "./before.mjs";
import { nodeProcess } from "./node";
import type { ScaleResult } from "./core-scale";

export async function scaleOfCommit(rev: string, quick: boolean, log: (s: string) => void): Promise<{ commit: string; scale: ScaleResult[] }> {
  const root = nodeProcess.cwd();
  const commit = execFileSync("git", ["rev-parse", rev], { cwd: root, encoding: "utf8" }).trim();
  const before = checkoutBefore(root, commit) as { dir: string; remove(): void };
  try {
    log(`  before: the core of ${commit.slice(0, 12)}, its own measurement 6`);
    const out = join(before.dir, "scale.json");
    const args = ["--expose-gc", "--import", "tsx", "bench/core.ts", "--only", "scale", "--json", out, ...(quick ? ["--quick"] : [])];
    execFileSync(nodeProcess.execPath, args, { cwd: before.dir, stdio: ["ignore", "inherit", "inherit"] });
    return { commit, scale: (JSON.parse(readFileSync(out, "utf8")) as { scale: ScaleResult[] }).scale };
  } finally {
    before.remove();
  }
}

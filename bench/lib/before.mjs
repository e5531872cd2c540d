/**
 * The code a comparison is made against, from git: `git archive` of a commit into a temporary
 * folder that shares this checkout's node_modules and .dev.vars, so that the same run measures
 * before and after on the same machine and load. Nothing of it is ever committed; `remove()` deletes it.
 */
import { execFileSync, execSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The commit this branch was made from: where it meets main. */
export function baseCommit(root) {
  return execFileSync("git", ["merge-base", "HEAD", "main"], { cwd: root, encoding: "utf8" }).trim();
}

export function checkoutBefore(root, commit) {
  const dir = mkdtempSync(join(tmpdir(), "tally-before-"));
  execSync(`git archive ${commit} | tar -x -C ${JSON.stringify(dir)}`, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  if (existsSync(join(root, ".dev.vars"))) copyFileSync(join(root, ".dev.vars"), join(dir, ".dev.vars"));
  return { dir, commit, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The few Node facilities the core benchmark needs, typed here because the project's tsconfig
 * checks bench/*.ts against the Workers types only (no @types/node).
 */
interface NodeProcess {
  argv: string[];
  memoryUsage(): { heapUsed: number; rss: number; arrayBuffers: number };
  cpuUsage(previous?: { user: number; system: number }): { user: number; system: number };
  exitCode?: number;
}

export const nodeProcess = (globalThis as unknown as { process: NodeProcess }).process;

/** Full collection (twice: the first may only schedule finalisers); needs node --expose-gc. */
export function collect(): void {
  const gc = (globalThis as unknown as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc (npm run bench:core does)");
  gc();
  gc();
}

/** Live memory after a full GC: the JS heap, and ArrayBuffer backing stores (typed arrays live
 * outside heapUsed, yet count against an isolate's memory limit in workerd). */
export function liveMemory(): { heap: number; arrayBuffers: number } {
  collect();
  const m = nodeProcess.memoryUsage();
  return { heap: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

export async function writeText(path: string, text: string): Promise<void> {
  const fs = (await import("node:fs" as string)) as { writeFileSync(p: string, t: string): void };
  fs.writeFileSync(path, text);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export const summarise = (xs: number[]): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

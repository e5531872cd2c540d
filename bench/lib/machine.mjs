/** The machine a run happened on, recorded with its results: figures mean little without it. */
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";

export function machine() {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
    if (line) cpu = line.split(":")[1].trim();
  } catch {}
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)/m);
    if (pretty) osName = `${pretty[1]} (${os.type()} ${os.release()})`;
  } catch {}
  return {
    cpu,
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    node: process.version,
    os: osName,
    date: new Date().toISOString(),
  };
}

/**
 * Every process of the machine, by pid: its parent, whether it is a workerd, and the CPU seconds
 * (user + system) it has spent so far. Linux only (/proc): undefined elsewhere. The benchmarks
 * read workerd's own CPU time, which the load of other processes on a shared machine does not change.
 */
export function processes() {
  try {
    const table = new Map();
    for (const [pid, stat] of procFiles("stat")) {
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      table.set(Number(pid), { ppid: Number(fields[1]), workerd: stat.includes("(workerd)"), cpuSeconds: ticks / 100 }); // USER_HZ is 100 on Linux
    }
    return table;
  } catch {
    return undefined;
  }
}

/** Each process's /proc/<pid>/<file>, as [pid, text]; a process that ended meanwhile is skipped. */
function* procFiles(file) {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let text;
    try {
      text = readFileSync(`/proc/${pid}/${file}`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    yield [pid, text];
  }
}

/** The resident memory of the workerd processes below process `root` (a wrangler dev), together,
 * MB: other engineers' services on a shared machine are not counted. Linux /proc; null elsewhere. */
export function workerdRssMB(root) {
  try {
    const parents = new Map();
    const rss = new Map();
    for (const [pid, status] of procFiles("status")) {
      parents.set(Number(pid), Number(status.match(/^PPid:\s+(\d+)/m)?.[1] ?? 0));
      if (/^Name:\s+workerd/m.test(status)) rss.set(Number(pid), Number(status.match(/^VmRSS:\s+(\d+)/m)?.[1] ?? 0));
    }
    const below = (pid) => {
      for (let p = pid; p > 1; p = parents.get(p) ?? 0) if (p === root) return true;
      return false;
    };
    let kb = 0;
    for (const [pid, value] of rss) if (below(pid)) kb += value;
    return kb / 1024;
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) spent so far by every workerd process below `root` (wrangler dev's
 * own workerd children, however deep): the runtime's work for one service, whatever else the
 * machine runs. Linux only (/proc): undefined elsewhere.
 */
export function workerdCpuSecondsUnder(root) {
  const table = processes();
  if (!table) return undefined;
  const below = (pid) => {
    for (let p = table.get(pid); p; p = table.get(p.ppid)) if (p.ppid === root) return true;
    return false;
  };
  let seconds = 0;
  for (const [pid, p] of table) if (p.workerd && below(pid)) seconds += p.cpuSeconds;
  return seconds;
}

/** CPU seconds spent so far by the workerd processes that are this process's own children (the
 * ones Miniflare starts, without wrangler dev), or by those of `pids` only; undefined where /proc is not. */
export function workerdChildrenCpuSeconds(pids) {
  const table = processes();
  if (!table) return undefined;
  let seconds = 0;
  for (const [pid, p] of table) if (p.workerd && p.ppid === process.pid && (pids === undefined || pids.has(pid))) seconds += p.cpuSeconds;
  return seconds;
}

/** The pids of this process's workerd children now: taken before and after a Miniflare starts, they
 * tell its own processes apart from another's running beside it. Empty where /proc is not. */
export function workerdChildren() {
  const table = processes();
  return new Set(table ? [...table].filter(([, p]) => p.workerd && p.ppid === process.pid).map(([pid]) => pid) : []);
}

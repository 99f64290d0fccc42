/**
 * How busy the machine is, from `/proc/stat` (Linux): benchmarks on a shared machine wait for it to
 * be quiet before measuring, and report how much CPU other processes took while they ran.
 */
import { readFileSync } from "node:fs"

/** CPU time of the whole machine and of this process tree so far, in seconds. */
export interface Sample {
  /** Busy (non-idle, non-iowait) CPU time of every core. */
  readonly machineBusy: number
  /** This process and its children that have exited (and were waited for). */
  readonly ownTree: number
}

const clockTicks = 100

/** A sample now. `liveChildren` is the CPU of children still running, in seconds. */
export const sample = (liveChildren = 0): Sample => {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu
  const stat = readFileSync("/proc/self/stat", "utf8")
  const fields = stat
    .slice(stat.lastIndexOf(")") + 2)
    .split(" ")
    .map(Number)
  const own = fields.slice(11, 15).reduce((sum, ticks) => sum + ticks, 0)
  return {
    machineBusy: (user + nice + system + irq + softirq + steal) / clockTicks,
    ownTree: own / clockTicks + liveChildren
  }
}

/** Cores that other processes kept busy between two samples `seconds` apart. */
export const othersLoad = (from: Sample, to: Sample, seconds: number): number =>
  Math.max(0, to.machineBusy - from.machineBusy - (to.ownTree - from.ownTree)) / seconds

/**
 * Waits until other processes use less than `threshold` cores over a second, for at most `maxSeconds`.
 * Resolves with the load seen last (in cores), so a caller can say it measured on a busy machine.
 */
export const waitForQuiet = async (options: {
  readonly threshold?: number
  readonly maxSeconds?: number
  readonly liveChildren?: () => number
  readonly onWait?: (load: number) => void
}): Promise<number> => {
  const threshold = options.threshold ?? 0.25
  const giveUpAt = Date.now() + (options.maxSeconds ?? 60) * 1000
  let warned = false
  for (;;) {
    const before = sample(options.liveChildren?.() ?? 0)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const load = othersLoad(before, sample(options.liveChildren?.() ?? 0), 1)
    if (load < threshold || Date.now() > giveUpAt) return load
    if (!warned) options.onWait?.(load)
    warned = true
  }
}

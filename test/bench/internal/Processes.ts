/**
 * The processes a benchmark or soak runs against, each on its own event loop: the standalone sandbox,
 * the gateway from `dist`, and the minimal proxy. Their stdout and stderr go to files (request logs
 * included, so the driver never reads them); readiness is the "listening" line in that file.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The repository root. */
export const root = fileURLToPath(new URL("../../../", import.meta.url))

/** Where the built entry points are; `BENCH_GATEWAY` points at another gateway build (e.g. an older commit's). */
export const entries = {
  sandbox: join(root, "packages/sandbox/dist/main.js"),
  gateway: process.env.BENCH_GATEWAY ?? join(root, "apps/gateway/dist/main.js"),
  minimalProxy: join(root, "test/bench/minimal-proxy.ts")
} as const

/** A child process serving HTTP on `url`. */
export interface Served {
  readonly name: string
  readonly url: string
  readonly pid: number
  /** The file holding its stdout and stderr. */
  readonly logFile: string
  /** Whether it is still running. */
  readonly alive: () => boolean
  /** Its exit code and signal once it has exited. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** Resident set size in bytes, from `/proc` (Linux). */
  readonly rss: () => number
  /** CPU time used so far (user + system), in seconds, from `/proc` (Linux). */
  readonly cpuSeconds: () => number
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  readonly stop: (graceMs?: number) => Promise<number | null>
}

const logDirectory = mkdtempSync(join(tmpdir(), "ddn-bench-"))
const running = new Set<ChildProcess>()

/** Kills every child still running (on the driver's way out, whatever the reason). */
export const killAll = (): void => {
  for (const child of running) child.kill("SIGKILL")
}
process.once("exit", (code) => {
  killAll()
  if (code === 0) rmSync(logDirectory, { recursive: true, force: true })
  else process.stderr.write(`the servers' output is in ${logDirectory}\n`)
})

/**
 * Runs a driver's `main` and exits with the code it resolves with; if it throws, prints the error,
 * kills every child still running and exits 1.
 */
export const runMain = (main: () => Promise<number>): void => {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      killAll()
      process.exit(1)
    }
  )
}

/** Fails unless the workspace has been built. */
export const requireBuild = (): void => {
  for (const entry of [entries.sandbox, entries.gateway]) {
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`pnpm build\` first`)
  }
}

const rssOf = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return match === null ? Number.NaN : Number(match[1]) * 1024
}

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux). */
const clockTicks = 100

const cpuSecondsOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / clockTicks
}

/** Starts `args` with `env` and waits (at most 20 s) for `listening` to match a line of its output. */
export const serve = async (options: {
  readonly name: string
  readonly args: ReadonlyArray<string>
  readonly env: Readonly<Record<string, string>>
  readonly listening: RegExp
}): Promise<Served> => {
  const logFile = join(logDirectory, `${options.name}-${Date.now()}.log`)
  const fd = openSync(logFile, "w")
  const child = spawn(process.execPath, [...options.args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env },
    stdio: ["ignore", fd, fd]
  })
  closeSync(fd)
  running.add(child)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    })
  )
  let done = false
  void exited.then(() => {
    done = true
  })

  const deadline = Date.now() + 20_000
  let url: string | undefined
  while (url === undefined) {
    const match = options.listening.exec(readFileSync(logFile, "utf8"))
    if (match !== null) url = match[1]!
    else if (done || Date.now() > deadline) {
      child.kill("SIGKILL")
      // The sandbox prints a demo refresh token on start: never let it into an error message.
      const output = readFileSync(logFile, "utf8")
        .slice(-2000)
        .replace(/(refresh token: )\S+/gi, "$1<redacted>")
      throw new Error(`${options.name} did not start:\n${output}`)
    } else await new Promise((resolve) => setTimeout(resolve, 50))
  }

  const stop = async (graceMs = 15_000) => {
    if (done) return (await exited).code
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs)
    const { code } = await exited
    clearTimeout(timer)
    return code
  }
  return {
    name: options.name,
    url,
    pid: child.pid!,
    logFile,
    alive: () => !done,
    exited,
    rss: () => rssOf(child.pid!),
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    stop
  }
}

/** Sandbox settings as its environment variables (`SANDBOX_*`). */
export type SandboxEnv = Readonly<Record<string, string>>

/** The standalone sandbox on an ephemeral loopback port. */
export const sandbox = (env: SandboxEnv = {}): Promise<Served> =>
  serve({
    name: "sandbox",
    args: [entries.sandbox],
    env: { PORT: "0", HOST: "127.0.0.1", ...env },
    listening: /DDN sandbox listening on (http:\/\/\S+)/
  })

/** The largest `RATE_LIMIT_PER_MINUTE`: on, and never reached by a benchmark's load from one address. */
export const unreachableRateLimit = "1000000000"

/** A gateway process, with where its metrics are served (its own listener, `METRICS_PORT`). */
export interface ServedGateway extends Served {
  /** e.g. `http://127.0.0.1:40123/metrics`; undefined with `METRICS_PORT=off`. */
  readonly metricsUrl: string | undefined
}

/**
 * The gateway from `dist`, in production mode, in front of `apiUrl`, metrics on a free port;
 * `nodeArgs` e.g. `--cpu-prof`. Every load request comes from 127.0.0.1, so the per-client limit
 * is set where no load reaches (the limiter's code path still runs); `env` may set another.
 */
export const gateway = async (
  apiUrl: string,
  env: Readonly<Record<string, string>> = {},
  nodeArgs: ReadonlyArray<string> = [],
  name = "gateway"
): Promise<ServedGateway> => {
  const served = await serve({
    name,
    args: [...nodeArgs, entries.gateway],
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      METRICS_PORT: "0",
      RATE_LIMIT_PER_MINUTE: unreachableRateLimit,
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      DDN_API_URL: apiUrl,
      ...env
    },
    listening: /Gateway listening on (http:\/\/\S+)/
  })
  const metricsUrl = /^Metrics: (http:\/\/\S+)$/m.exec(readFileSync(served.logFile, "utf8"))?.[1]
  return { ...served, metricsUrl }
}

/** The minimal `node:http` proxy of `minimal-proxy.ts`, in front of `apiUrl`; `nodeArgs` as for {@link gateway}. */
export const minimalProxy = (apiUrl: string, nodeArgs: ReadonlyArray<string> = []): Promise<Served> =>
  serve({
    name: "minimal-proxy",
    args: [...nodeArgs, "--import", "tsx", entries.minimalProxy],
    env: { PORT: "0", HOST: "127.0.0.1", NODE_ENV: "production", DDN_API_URL: apiUrl },
    listening: /Minimal proxy listening on (http:\/\/\S+)/
  })

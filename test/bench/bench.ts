/**
 * `pnpm bench`: the gateway measured the way its users would compare it, side by side in one run on
 * one machine, each server in its own process, the standalone sandbox (no faults, no latency) as the
 * upstream of every side, a fresh refresh token per request:
 *
 * 1. the gateway (`dist`, `NODE_ENV=production`) vs the minimal `node:http` proxy of `minimal-proxy.ts`,
 *    loaded by autocannon at a fixed concurrency in interleaved rounds: requests/s, p50/p99, the ratio;
 * 2. the core client (`DdnAuthNode.layerOptions`, `DdnAuthClient.refresh`) vs a plain `fetch` loop
 *    (`core-vs-fetch.ts`, a child process): the ratio;
 * 3. single-flight: 1,000 concurrent refreshes of one token through the gateway → upstream calls;
 * 4. memory: a fresh gateway's RSS after warm-up and after 200,000 requests with unique tokens;
 * 5. settings compared: the gateway with a setting (e.g. `REDIS_URL`, the per-client limit) vs the
 *    same gateway without it, fresh processes side by side in interleaved rounds: the ratio, judged
 *    against each setting's goal.
 *
 * Every gateway here runs with `RATE_LIMIT_PER_MINUTE` at its maximum (`Processes.gateway`): the
 * load comes from one address, and the limiter still runs on every request.
 *
 * Prints the figures and PASS/FAIL per target, writes `RESULTS.md` (its generated part) and
 * `results.svg` beside this file on full runs, and exits 1 when a judged target fails. `--smoke` is a
 * ~30 s run that judges correctness (errors, single-flight) but not ratios or memory. `--profile`
 * instead runs one CPU-profiled round against the gateway and prints its top self-time functions.
 *
 *   pnpm bench [--smoke] [--connections 32] [--seconds 8] [--rounds 3] [--memory-requests 200000]
 */
import { execFile, execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as OtlpReceiver from "../support/OtlpReceiver.js"
import { startRedis } from "../support/RedisServer.js"
import type { Comparison, SideRound } from "./core-vs-fetch.js"
import * as Endpoints from "./internal/Endpoints.js"
import * as Load from "./internal/Load.js"
import * as Machine from "./internal/Machine.js"
import * as Options from "./internal/Options.js"
import * as Processes from "./internal/Processes.js"
import * as Profiles from "./internal/Profiles.js"
import * as Report from "./internal/Report.js"

const here = fileURLToPath(new URL(".", import.meta.url))

/**
 * Node flags of both servers unless `--node-args` says otherwise: a young generation sized for this
 * load (V8's default semi-space is 16 MiB), worth about a third more gateway throughput here.
 */
const defaultNodeArgs = "--max-semi-space-size=64"

const { values, smoke, switches } = Options.parse({
  usage: "pnpm bench [options]: gateway vs minimal proxy, core vs fetch, single-flight, memory",
  smokeEnv: "BENCH_SMOKE",
  specs: {
    connections: { env: "BENCH_CONNECTIONS", full: 32, smoke: 32, help: "concurrent connections / workers" },
    seconds: { env: "BENCH_SECONDS", full: 8, smoke: 2, help: "seconds per side per round" },
    rounds: { env: "BENCH_ROUNDS", full: 3, smoke: 1, help: "interleaved rounds" },
    "warm-up": { env: "BENCH_WARM_UP_SECONDS", full: 10, smoke: 1, help: "seconds of warm-up per side" },
    "memory-requests": { env: "BENCH_MEMORY_REQUESTS", full: 200_000, smoke: 3_000, help: "requests of the memory run" }
  },
  switches: {
    "log-level": { type: "string", help: "the gateway's LOG_LEVEL (BENCH_LOG_LEVEL; default info)" },
    "node-args": {
      type: "string",
      help: `Node flags for the gateway, the minimal proxy and the core-vs-fetch process alike, as --node-args="…" (BENCH_NODE_ARGS; default "${defaultNodeArgs}")`
    },
    write: { type: "boolean", help: "write RESULTS.md and results.svg even on a smoke run" },
    "no-write": { type: "boolean", help: "write nothing, only print" },
    profile: { type: "boolean", help: "one CPU-profiled round against the gateway; prints the top functions" },
    setting: {
      type: "string",
      help: 'with --profile: the gateway runs with this setting of part 5 on, e.g. --setting "Redis coordination"'
    }
  }
})
const connections = values.connections
const seconds = values.seconds
const rounds = values.rounds
const warmUpSeconds = values["warm-up"]
const memoryRequests = values["memory-requests"]
const logLevel = (switches["log-level"] as string | undefined) ?? process.env.BENCH_LOG_LEVEL ?? "info"
const nodeArgs = Options.words(
  (switches["node-args"] as string | undefined) ?? process.env.BENCH_NODE_ARGS ?? defaultNodeArgs
)
const write = switches["no-write"] !== true && (!smoke || switches.write === true)
const command = `pnpm bench${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}`

/**
 * The upstream of every side: no faults, no latency. Refresh tokens live 30 min (long enough for the
 * memory run's tokens, all minted up front) and are then forgotten, so the sandbox's memory stays bounded.
 */
const fastSandbox = { SANDBOX_REFRESH_TOKEN_TTL_S: "1800" }

const say = (line: string) => process.stdout.write(`${line}\n`)
const mib = (bytes: number) => bytes / 2 ** 20
const { median } = Load

type MeasuredRound = Load.Round & { readonly cpuMicros: number; readonly upstreamCpuMicros: number }

const sideOf = (label: string, measured: ReadonlyArray<Load.Round & { readonly cpuMicros: number }>): Report.Side => ({
  label,
  rps: median(measured.map((round) => round.rps)),
  p50: median(measured.map((round) => round.p50)),
  p99: median(measured.map((round) => round.p99)),
  requests: measured.reduce((sum, round) => sum + round.requests, 0),
  errors: measured.reduce((sum, round) => sum + round.errors + (round.ranOut ? 1 : 0), 0),
  cpuMicros: median(measured.map((round) => round.cpuMicros)),
  roundRps: measured.map((round) => round.rps)
})

const fromCore = (label: string, sideRounds: ReadonlyArray<SideRound>): Report.Side =>
  sideOf(
    label,
    sideRounds.map((round) => ({ ...round, ranOut: false }))
  )

/** A counter's value from the gateway's Prometheus text (its own listener). */
const counter = async (gateway: Processes.ServedGateway, name: string): Promise<number> =>
  Endpoints.counter(await Endpoints.metrics(gateway.metricsUrl!), name)

/** A round of autocannon against `side`, with the CPU its process and the sandbox spent meanwhile. */
const loadRound = async (
  side: Processes.Served,
  sandbox: Processes.Served,
  tokens: ReadonlyArray<string>,
  options: { readonly seconds?: number; readonly amount?: number }
): Promise<MeasuredRound> => {
  const cpuBefore = side.cpuSeconds()
  const upstreamBefore = sandbox.cpuSeconds()
  const round = await Load.run({ url: `${side.url}/graphql`, connections, tokens, ...options })
  const perRequest = (cpuSeconds: number) => (cpuSeconds * 1e6) / Math.max(1, round.requests)
  return {
    ...round,
    cpuMicros: perRequest(side.cpuSeconds() - cpuBefore),
    upstreamCpuMicros: perRequest(sandbox.cpuSeconds() - upstreamBefore)
  }
}

/** Enough fresh tokens for `seconds` at `rate`, with room to spare (a round that runs out is reported). */
const tokensFor = (sandbox: Processes.Served, rate: number, forSeconds: number) =>
  Load.mintTokens(sandbox.url, Math.ceil(Math.max(rate, 500) * forSeconds * 2) + 2_000)

/** Interleaved autocannon rounds against `sides` (each warmed up first): every side's measured rounds. */
const interleaved = async (
  sandbox: Processes.Served,
  sides: ReadonlyArray<Processes.Served>,
  options: { readonly rounds: number; readonly seconds: number; readonly warmUpSeconds: number }
) => {
  const rates = new Map<Processes.Served, number>()
  for (const side of sides) {
    const warmUp = await loadRound(side, sandbox, await tokensFor(sandbox, 2_000, options.warmUpSeconds), {
      seconds: options.warmUpSeconds
    })
    rates.set(side, warmUp.rps)
    say(`  warm-up ${side.name}: ${warmUp.rps.toFixed(0)} requests/s`)
  }
  const results = new Map<Processes.Served, Array<MeasuredRound>>(sides.map((side) => [side, []]))
  for (let round = 0; round < options.rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const tokens = await tokensFor(sandbox, rates.get(side)!, options.seconds)
      const result = await loadRound(side, sandbox, tokens, { seconds: options.seconds })
      rates.set(side, Math.max(rates.get(side)!, result.rps))
      results.get(side)!.push(result)
      say(
        `  round ${round + 1} ${side.name}: ${result.rps.toFixed(0)} requests/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors, ${result.cpuMicros.toFixed(0)} µs CPU/request${result.ranOut ? " (RAN OUT OF TOKENS)" : ""}`
      )
    }
  }
  return results
}

/** Part 1: interleaved autocannon rounds against the gateway and the minimal proxy. */
const gatewayVsMinimal = async (sandbox: Processes.Served, gateway: Processes.Served, minimal: Processes.Served) => {
  const results = await interleaved(sandbox, [gateway, minimal], { rounds, seconds, warmUpSeconds })
  const gatewaySide = sideOf(`gateway (LOG_LEVEL=${logLevel})`, results.get(gateway)!)
  const minimalSide = sideOf("minimal proxy", results.get(minimal)!)
  return {
    gateway: gatewaySide,
    minimal: minimalSide,
    ratio: gatewaySide.rps / minimalSide.rps,
    upstreamCpuMicros: median([...results.values()].flat().map((round) => round.upstreamCpuMicros))
  }
}

/**
 * A setting of the gateway measured against the gateway without it (part 5): `setUp` starts what the
 * setting needs and returns the variables that turn it on.
 */
interface Variant {
  readonly name: string
  readonly baseline: string
  readonly variant: string
  /** The least throughput ratio variant / baseline that passes. */
  readonly goal: number
  readonly setUp: () => Promise<{
    /** The variables of the variant side. */
    readonly env: Readonly<Record<string, string>>
    /** The variables of the baseline side, when the setting is on by default. */
    readonly baselineEnv?: Readonly<Record<string, string>>
    readonly tearDown: () => Promise<void>
  }>
}

const variants: ReadonlyArray<Variant> = [
  {
    name: "per-client rate limit",
    baseline: "gateway, RATE_LIMIT_PER_MINUTE=0",
    variant: "gateway, rate limit on (never reached)",
    goal: 0.95,
    setUp: async () => ({ env: {}, baselineEnv: { RATE_LIMIT_PER_MINUTE: "0" }, tearDown: async () => {} })
  },
  {
    name: "Redis coordination",
    baseline: "gateway, in-memory coordination",
    variant: "gateway, REDIS_URL (Redis coordinator)",
    goal: 0.85,
    setUp: async () => {
      const redis = await startRedis()
      return {
        env: { REDIS_URL: redis.url, DDN_COORDINATION_SECRET: "bench-coordination-secret-0123456789abcdef" },
        tearDown: redis.stop
      }
    }
  },
  ...[
    { label: "100 %", sampler: "always_on", ratio: "1", goal: 0.7 },
    { label: "10 %", sampler: "traceidratio", ratio: "0.1", goal: 0.85 }
  ].map(
    (sampling): Variant => ({
      name: `tracing, sampler ${sampling.label}`,
      baseline: "gateway, tracing off",
      variant: `gateway, OTLP protobuf to a local receiver, sampler ${sampling.label}`,
      goal: sampling.goal,
      setUp: async () => {
        const receiver = await OtlpReceiver.start("accept", { keep: false })
        return {
          env: {
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_TRACES_SAMPLER: sampling.sampler,
            OTEL_TRACES_SAMPLER_ARG: sampling.ratio
          },
          tearDown: receiver.stop
        }
      }
    })
  )
]

/** Part 5: each variant side by side with its baseline, both fresh gateways, in interleaved rounds. */
const compareVariants = async (sandbox: Processes.Served) => {
  const compared: Array<Report.VariantResult> = []
  for (const variant of variants) {
    say(`  ${variant.name}`)
    const { baselineEnv, env, tearDown } = await variant.setUp()
    const baseline = await Processes.gateway(
      sandbox.url,
      { LOG_LEVEL: logLevel, ...baselineEnv },
      nodeArgs,
      variant.baseline
    )
    const measured = await Processes.gateway(sandbox.url, { LOG_LEVEL: logLevel, ...env }, nodeArgs, variant.variant)
    try {
      const results = await interleaved(sandbox, [baseline, measured], {
        rounds,
        seconds,
        warmUpSeconds: Math.min(warmUpSeconds, 5)
      })
      const baselineSide = sideOf(variant.baseline, results.get(baseline)!)
      const variantSide = sideOf(variant.variant, results.get(measured)!)
      const ratio = variantSide.rps / baselineSide.rps
      say(`   ratio ${ratio.toFixed(2)} (target ≥ ${variant.goal.toFixed(2)})`)
      compared.push({
        name: variant.name,
        baseline: baselineSide,
        variant: variantSide,
        ratio,
        goal: variant.goal,
        exitCodes: [await baseline.stop(), await measured.stop()]
      })
    } finally {
      await baseline.stop()
      await measured.stop()
      await tearDown()
    }
  }
  return compared
}

/**
 * Part 2: `core-vs-fetch.ts` in a process of its own (this one's event loop stays free meanwhile),
 * with the Node flags of part 1.
 */
const coreVsFetch = async (sandbox: Processes.Served) => {
  const args = [
    join(here, "core-vs-fetch.ts"),
    sandbox.url,
    String(connections),
    String(seconds / 2),
    // Twice the rounds of part 1 (half as long): its sides share one process, so a GC pause or a
    // noisy neighbour lands on one round of one side; more rounds make the median steadier.
    String(rounds * 2),
    String(smoke ? 500 : 4_000)
  ]
  const output = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      // The same Node flags as the servers of part 1; both sides share this process.
      [...nodeArgs, "--import", "tsx", ...args],
      { cwd: Processes.root, encoding: "utf8", maxBuffer: 16 * 2 ** 20 },
      (error, stdout) => (error === null ? resolve(stdout) : reject(error))
    )
  )
  const comparison = JSON.parse(output.trim().split("\n").at(-1)!) as Comparison
  const core = fromCore("core client (Effect)", comparison.core)
  const plain = fromCore("raw fetch", comparison.fetch)
  return { core, fetch: plain, ratio: core.rps / plain.rps }
}

/** The new refresh token of a `TokenPair` answer, if it is one. */
const pairOf = (body: string): string | undefined => {
  try {
    const result = (JSON.parse(body) as { data?: { refreshToken?: { __typename?: string; refreshToken?: string } } })
      .data?.refreshToken
    return result?.__typename === "TokenPair" ? result.refreshToken : undefined
  } catch {
    return undefined
  }
}

/** Part 3: 1,000 concurrent refreshes of one token; the sandbox holds its answer for 1 s so that they overlap. */
const singleFlight = async (sandbox: Processes.Served, gateway: Processes.ServedGateway) => {
  const requests = 1000
  const [token] = await Load.mintTokens(sandbox.url, 1)
  const before = (await Endpoints.sandboxStats(sandbox.url)).refreshRequests
  const coalescedBefore = await counter(gateway, "ddn_refresh_coalesced_total")
  const reusedBefore = await counter(gateway, "ddn_refresh_reused_total")
  await Endpoints.injectFault(sandbox.url, { type: "latency", ms: 1000 })
  const agent = Load.keepAliveAgent(requests)
  const answers = await Promise.all(
    Array.from({ length: requests }, () => Load.send({ url: `${gateway.url}/graphql`, token: token!, agent }))
  )
  agent.destroy()
  const pairs = answers
    .map((answer) => (answer._tag === "Answered" ? pairOf(answer.body) : undefined))
    .filter((pair) => pair !== undefined)
  return {
    requests,
    upstreamCalls: (await Endpoints.sandboxStats(sandbox.url)).refreshRequests - before,
    tokenPairs: pairs.length,
    distinctPairs: new Set(pairs).size,
    coalesced: (await counter(gateway, "ddn_refresh_coalesced_total")) - coalescedBefore,
    reused: (await counter(gateway, "ddn_refresh_reused_total")) - reusedBefore
  }
}

/** Part 4: a fresh gateway's RSS after warm-up and after `memoryRequests` requests with unique tokens. */
const memory = async (sandbox: Processes.Served, rate: number) => {
  const gateway = await Processes.gateway(sandbox.url, { LOG_LEVEL: logLevel }, nodeArgs)
  let peak = 0
  const sampler = setInterval(() => {
    if (gateway.alive()) peak = Math.max(peak, gateway.rss())
  }, 250)
  try {
    const url = `${gateway.url}/graphql`
    const spare = connections * 4
    let errors = 0
    // 30 s of traffic: the reuse window (10 s) reaches its steady state and V8 grows its heap spaces
    // to what this load needs, so what follows measures growth, not start-up sizing.
    const warmUpRequests = smoke ? 1_000 : Math.max(20_000, Math.ceil(rate * 30))
    const chunk = 50_000
    const chunks = Math.ceil(memoryRequests / chunk)
    // Every token minted up front: the load then runs without pauses, which V8 would use to shrink its heap.
    const warmUpTokens = await Load.mintTokens(sandbox.url, warmUpRequests + spare)
    const tokens = await Load.mintTokens(sandbox.url, memoryRequests + chunks * spare)
    errors += (await Load.run({ url, connections, tokens: warmUpTokens, amount: warmUpRequests })).errors
    const rssAfterWarmUp = gateway.rss()
    const heapAfterWarmUp = await counter(gateway, "nodejs_heap_size_used_bytes")
    peak = Math.max(peak, rssAfterWarmUp)
    say(
      `  after ${warmUpRequests} warm-up requests: RSS ${mib(rssAfterWarmUp).toFixed(1)} MiB, heap used ${mib(heapAfterWarmUp).toFixed(1)} MiB`
    )
    let elapsed = 0
    for (let done = 0, next = 0; done < memoryRequests; done += chunk) {
      const amount = Math.min(chunk, memoryRequests - done)
      const round = await Load.run({ url, connections, tokens: tokens.slice(next, next + amount + spare), amount })
      next += amount + spare
      errors += round.errors
      elapsed += round.seconds
      say(`  ${done + amount} requests: RSS ${mib(gateway.rss()).toFixed(1)} MiB, ${round.rps.toFixed(0)} requests/s`)
    }
    const rssAfter = gateway.rss()
    const heapAfter = await counter(gateway, "nodejs_heap_size_used_bytes")
    peak = Math.max(peak, rssAfter)
    clearInterval(sampler)
    return {
      warmUpRequests,
      requests: memoryRequests,
      errors,
      rps: memoryRequests / elapsed,
      rssAfterWarmUpMiB: mib(rssAfterWarmUp),
      rssAfterMiB: mib(rssAfter),
      rssPeakMiB: mib(peak),
      growthMiB: mib(rssAfter - rssAfterWarmUp),
      heapAfterWarmUpMiB: mib(heapAfterWarmUp),
      heapAfterMiB: mib(heapAfter),
      exitCode: await gateway.stop()
    }
  } finally {
    clearInterval(sampler)
    await gateway.stop()
  }
}

/** `--profile`: one round against a CPU-profiled gateway, then its top self-time functions. */
const profile = async () => {
  const directory = mkdtempSync(join(tmpdir(), "ddn-gateway-profile-"))
  const name = switches.setting
  const variant = typeof name === "string" ? variants.find((candidate) => candidate.name === name) : undefined
  if (typeof name === "string" && variant === undefined) {
    throw new Error(`no setting ${name}; the settings: ${variants.map((candidate) => candidate.name).join(", ")}`)
  }
  const setting = await variant?.setUp()
  let sandbox: Processes.Served | undefined
  let gateway: Processes.ServedGateway | undefined
  try {
    sandbox = await Processes.sandbox(fastSandbox)
    gateway = await Processes.gateway(sandbox.url, { LOG_LEVEL: logLevel, ...setting?.env }, [
      ...nodeArgs,
      "--cpu-prof",
      `--cpu-prof-dir=${directory}`
    ])
    say(`profiling the gateway${variant === undefined ? "" : ` with ${variant.variant}`}`)
    const url = `${gateway.url}/graphql`
    const warmUp = await Load.run({ url, connections, tokens: await tokensFor(sandbox, 2_000, 3), seconds: 3 })
    const round = await Load.run({ url, connections, tokens: await tokensFor(sandbox, warmUp.rps, seconds), seconds })
    say(`gateway under profiling: ${round.rps.toFixed(0)} requests/s, ${round.errors} errors`)
  } finally {
    await gateway?.stop()
    await sandbox?.stop()
    await setting?.tearDown()
  }
  const [file] = readdirSync(directory).filter((name) => name.endsWith(".cpuprofile"))
  if (file === undefined) throw new Error("the gateway wrote no profile")
  const summary = Profiles.summarise(JSON.parse(readFileSync(join(directory, file), "utf8")) as Profiles.CpuProfile)
  say(Profiles.format(summary, 40))
  say(`\nprofile: ${join(directory, file)} (node --import tsx test/bench/profile-summary.ts <file> [top] [filter])`)
}

/** The commit measured, and whether the code under test had uncommitted changes. */
const revision = (): string => {
  try {
    const git = (...args: ReadonlyArray<string>) =>
      execFileSync("git", [...args], { cwd: Processes.root, encoding: "utf8" }).trim()
    const dirty = git("status", "--porcelain", "--", "packages/auth/src", "packages/sandbox/src", "apps/gateway/src")
    return `${git("rev-parse", "--short", "HEAD")}${dirty === "" ? "" : " with uncommitted changes in the code under test"}`
  } catch {
    return "unknown revision"
  }
}

const main = async (): Promise<number> => {
  Processes.requireBuild()
  if (switches.setting !== undefined && switches.profile !== true) throw new Error("--setting goes with --profile")
  if (switches.profile === true) {
    await profile()
    return 0
  }
  const quiet = smoke
    ? Number.NaN
    : await Machine.waitForQuiet({
        maxSeconds: 60,
        onWait: (load) => say(`waiting for the machine to be quiet (other processes use ${load.toFixed(2)} cores)…`)
      })
  const gatewayBuild = process.env.BENCH_GATEWAY === undefined ? "" : `, the gateway from ${process.env.BENCH_GATEWAY}`
  const machineLine = `${Report.machine()}; code at ${revision()}${gatewayBuild}`
  const runStart = Machine.sample()
  const startedAt = Date.now()
  const date = new Date().toISOString()
  say(`${command}${smoke ? " (smoke)" : ""}\n${machineLine}`)
  say(
    `${connections} connections, ${rounds} round(s) of ${seconds} s per side after ${warmUpSeconds} s of warm-up, gateway LOG_LEVEL=${logLevel}, node ${nodeArgs.join(" ") || "(no flags)"} for the gateway, the minimal proxy and the core-vs-fetch process\n`
  )

  const sandbox = await Processes.sandbox(fastSandbox)
  const gateway = await Processes.gateway(sandbox.url, { LOG_LEVEL: logLevel }, nodeArgs)
  const minimal = await Processes.minimalProxy(sandbox.url, nodeArgs)

  say("1. gateway vs minimal proxy")
  const proxy = await gatewayVsMinimal(sandbox, gateway, minimal)
  await minimal.stop()
  say(`   ratio ${proxy.ratio.toFixed(2)}\n2. core client vs raw fetch`)
  const core = await coreVsFetch(sandbox)
  for (const side of [core.core, core.fetch]) {
    say(`  ${side.label}: ${side.rps.toFixed(0)} requests/s, ${side.cpuMicros.toFixed(0)} µs CPU/request`)
  }
  say(`   ratio ${core.ratio.toFixed(2)}\n3. single-flight`)
  const collapse = await singleFlight(sandbox, gateway)
  say(`  ${collapse.requests} refreshes → ${collapse.upstreamCalls} upstream call(s), ${collapse.tokenPairs} pairs`)
  const gatewayExit = await gateway.stop()

  say("4. memory")
  const rss = await memory(sandbox, proxy.gateway.rps)
  say("5. settings compared (each against the gateway without it)")
  const compared = await compareVariants(sandbox)
  await sandbox.stop()
  const others = Machine.othersLoad(runStart, Machine.sample(), (Date.now() - startedAt) / 1000)

  const judged = !smoke
  const variantErrors = compared.reduce((sum, result) => sum + result.baseline.errors + result.variant.errors, 0)
  const variantExits = compared.flatMap((result) => result.exitCodes)
  const errors =
    proxy.gateway.errors + proxy.minimal.errors + core.core.errors + core.fetch.errors + rss.errors + variantErrors
  const targets: Array<Report.Target> = [
    {
      name: "gateway throughput",
      goal: "≥ 0.80 × minimal proxy, 0 errors",
      measured: `${proxy.ratio.toFixed(2)} ×, ${proxy.gateway.errors} errors`,
      pass: proxy.ratio >= 0.8 && proxy.gateway.errors === 0,
      judged
    },
    {
      name: "core client",
      goal: "≥ 0.95 × raw fetch",
      measured: `${core.ratio.toFixed(2)} ×`,
      pass: core.ratio >= 0.95,
      judged
    },
    {
      name: "single-flight",
      goal: "1 upstream call for 1,000 concurrent refreshes",
      measured: `${collapse.upstreamCalls} call(s), ${collapse.tokenPairs} pairs, ${collapse.distinctPairs} distinct`,
      pass: collapse.upstreamCalls === 1 && collapse.tokenPairs === collapse.requests && collapse.distinctPairs === 1,
      judged: true
    },
    {
      name: "memory",
      goal: `RSS growth < 50 MiB over ${memoryRequests} requests`,
      measured: `${rss.growthMiB.toFixed(1)} MiB`,
      pass: rss.growthMiB < 50,
      judged
    },
    ...compared.map(
      (result): Report.Target => ({
        name: result.name,
        goal: `≥ ${result.goal.toFixed(2)} × ${result.baseline.label}, 0 errors`,
        measured: `${result.ratio.toFixed(2)} ×, ${result.variant.errors} errors`,
        pass: result.ratio >= result.goal && result.variant.errors === 0,
        judged
      })
    ),
    {
      name: "no errors, no crash",
      goal: "every answer a TokenPair; gateways exit 0",
      measured: `${errors} errors, exit codes ${[gatewayExit, rss.exitCode, ...variantExits].join(", ")}`,
      pass: errors === 0 && [gatewayExit, rss.exitCode, ...variantExits].every((code) => code === 0),
      judged: true
    }
  ]
  const results: Report.Results = {
    date,
    command,
    smoke,
    settings: { connections, seconds, rounds, warmUpSeconds, logLevel, memoryRequests, nodeArgs: nodeArgs.join(" ") },
    machine: { quietBefore: quiet, othersDuring: others, minutes: (Date.now() - startedAt) / 60_000 },
    proxy,
    core,
    singleFlight: collapse,
    memory: rss,
    variants: compared,
    targets
  }

  say("")
  for (const side of [
    proxy.gateway,
    proxy.minimal,
    core.core,
    core.fetch,
    ...compared.flatMap((result) => [result.baseline, result.variant])
  ]) {
    say(
      `${side.label.padEnd(40)} ${side.rps.toFixed(0).padStart(7)} requests/s  p50 ${side.p50.toFixed(2).padStart(7)} ms  p99 ${side.p99.toFixed(2).padStart(7)} ms  ${String(side.errors).padStart(3)} errors  ${side.cpuMicros.toFixed(0).padStart(5)} µs CPU/request`
    )
  }
  say(`RSS ${rss.rssAfterWarmUpMiB.toFixed(1)} → ${rss.rssAfterMiB.toFixed(1)} MiB (peak ${rss.rssPeakMiB.toFixed(1)})`)
  say(
    `${results.machine.minutes.toFixed(1)} min; other processes kept ${others.toFixed(2)} cores busy on average meanwhile\n`
  )
  for (const target of targets) {
    const mark = target.judged
      ? target.pass
        ? "PASS"
        : "FAIL"
      : target.pass
        ? "(pass, not judged)"
        : "(fail, not judged)"
    say(`${mark.padEnd(19)} ${target.name}: ${target.measured} (target ${target.goal})`)
  }
  if (write) {
    Report.writeMarkdown(join(here, "RESULTS.md"), Report.markdown(results, machineLine))
    writeFileSync(join(here, "results.svg"), Report.chart(results))
    say("\nwrote test/bench/RESULTS.md and test/bench/results.svg")
  }
  return targets.every((target) => !target.judged || target.pass) ? 0 : 1
}

Processes.runMain(main)

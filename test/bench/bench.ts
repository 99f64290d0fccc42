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
 * 5. protection: the gateway as shipped (per-client limit on, at a limit this one-address load never
 *    reaches, so every request goes through the limiter) vs the same gateway with it off
 *    (`RATE_LIMIT_PER_MINUTE=0`), fresh processes in interleaved rounds: the ratio (target 0.95).
 *
 * Every gateway here runs with `RATE_LIMIT_PER_MINUTE` at its maximum (`Processes.gateway`): the
 * load comes from one address.
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
import { Agent, request } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Comparison, SideRound } from "./core-vs-fetch.js"
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
    profile: { type: "boolean", help: "one CPU-profiled round against the gateway; prints the top functions" }
  }
})
const connections = values.connections
const seconds = values.seconds
const rounds = values.rounds
const warmUpSeconds = values["warm-up"]
const memoryRequests = values["memory-requests"]
const logLevel = (switches["log-level"] as string | undefined) ?? process.env.BENCH_LOG_LEVEL ?? "info"
const nodeArgs = ((switches["node-args"] as string | undefined) ?? process.env.BENCH_NODE_ARGS ?? defaultNodeArgs)
  .split(" ")
  .filter((arg) => arg !== "")
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

const sandboxStats = async (sandboxUrl: string) =>
  (await (await fetch(`${sandboxUrl}/sandbox/stats`)).json()) as { readonly refreshRequests: number }

/** A counter's value from the gateway's Prometheus text (its own listener). */
const counter = async (gateway: Processes.ServedGateway, name: string): Promise<number> => {
  const text = await (await fetch(gateway.metricsUrl!)).text()
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text)
  return match === null ? Number.NaN : Number(match[1])
}

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

/** Part 1: interleaved autocannon rounds against the gateway and the minimal proxy. */
const gatewayVsMinimal = async (sandbox: Processes.Served, gateway: Processes.Served, minimal: Processes.Served) => {
  const sides = [gateway, minimal]
  const rates = new Map<Processes.Served, number>()
  for (const side of sides) {
    const warmUp = await loadRound(side, sandbox, await tokensFor(sandbox, 2_000, warmUpSeconds), {
      seconds: warmUpSeconds
    })
    rates.set(side, warmUp.rps)
    say(`  warm-up ${side.name}: ${warmUp.rps.toFixed(0)} requests/s`)
  }
  const results = new Map<Processes.Served, Array<MeasuredRound>>(sides.map((side) => [side, []]))
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const tokens = await tokensFor(sandbox, rates.get(side)!, seconds)
      const result = await loadRound(side, sandbox, tokens, { seconds })
      rates.set(side, Math.max(rates.get(side)!, result.rps))
      results.get(side)!.push(result)
      say(
        `  round ${round + 1} ${side.name}: ${result.rps.toFixed(0)} requests/s, p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors, ${result.cpuMicros.toFixed(0)} µs CPU/request${result.ranOut ? " (RAN OUT OF TOKENS)" : ""}`
      )
    }
  }
  const gatewaySide = sideOf(`gateway (LOG_LEVEL=${logLevel})`, results.get(gateway)!)
  const minimalSide = sideOf("minimal proxy", results.get(minimal)!)
  return {
    gateway: gatewaySide,
    minimal: minimalSide,
    ratio: gatewaySide.rps / minimalSide.rps,
    upstreamCpuMicros: median([...results.values()].flat().map((round) => round.upstreamCpuMicros))
  }
}

/** Part 5: the gateway with the per-client limit on (never reached) vs off, fresh processes, interleaved rounds. */
const protectionOnVsOff = async (sandbox: Processes.Served) => {
  const off = await Processes.gateway(
    sandbox.url,
    { LOG_LEVEL: logLevel, RATE_LIMIT_PER_MINUTE: "0" },
    nodeArgs,
    "gateway, protection off"
  )
  const on = await Processes.gateway(sandbox.url, { LOG_LEVEL: logLevel }, nodeArgs, "gateway, protection on")
  try {
    const sides = [off, on]
    const rates = new Map<Processes.Served, number>()
    for (const side of sides) {
      const warmUp = await loadRound(side, sandbox, await tokensFor(sandbox, 2_000, Math.min(warmUpSeconds, 5)), {
        seconds: Math.min(warmUpSeconds, 5)
      })
      rates.set(side, warmUp.rps)
      say(`  warm-up ${side.name}: ${warmUp.rps.toFixed(0)} requests/s`)
    }
    const results = new Map<Processes.Served, Array<MeasuredRound>>(sides.map((side) => [side, []]))
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const result = await loadRound(side, sandbox, await tokensFor(sandbox, rates.get(side)!, seconds), { seconds })
        rates.set(side, Math.max(rates.get(side)!, result.rps))
        results.get(side)!.push(result)
        say(
          `  round ${round + 1} ${side.name}: ${result.rps.toFixed(0)} requests/s, p99 ${result.p99.toFixed(2)} ms, ${result.errors} errors, ${result.cpuMicros.toFixed(0)} µs CPU/request`
        )
      }
    }
    const offSide = sideOf("gateway, protection off", results.get(off)!)
    const onSide = sideOf("gateway, protection on", results.get(on)!)
    return { off: offSide, on: onSide, ratio: onSide.rps / offSide.rps, exitCodes: [await off.stop(), await on.stop()] }
  } finally {
    await off.stop()
    await on.stop()
  }
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

/** One `refreshToken` mutation; resolves with the status and body. */
const mutate = (agent: Agent, graphqlUrl: string, token: string) =>
  new Promise<{ readonly status: number; readonly body: string }>((resolve, reject) => {
    const req = request(graphqlUrl, { method: "POST", agent, headers: Load.refreshHeaders }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(Load.refreshBody(token))
  })

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
  const before = (await sandboxStats(sandbox.url)).refreshRequests
  const coalescedBefore = await counter(gateway, "ddn_refresh_coalesced_total")
  const reusedBefore = await counter(gateway, "ddn_refresh_reused_total")
  await fetch(`${sandbox.url}/sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "latency", ms: 1000 })
  })
  const agent = new Agent({ keepAlive: true, maxSockets: requests })
  const answers = await Promise.all(
    Array.from({ length: requests }, () =>
      mutate(agent, `${gateway.url}/graphql`, token!).catch(() => ({ status: 0, body: "" }))
    )
  )
  agent.destroy()
  const pairs = answers.map((answer) => pairOf(answer.body)).filter((pair) => pair !== undefined)
  return {
    requests,
    upstreamCalls: (await sandboxStats(sandbox.url)).refreshRequests - before,
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
  const sandbox = await Processes.sandbox(fastSandbox)
  const gateway = await Processes.gateway(sandbox.url, { LOG_LEVEL: logLevel }, [
    ...nodeArgs,
    "--cpu-prof",
    `--cpu-prof-dir=${directory}`
  ])
  try {
    const url = `${gateway.url}/graphql`
    const warmUp = await Load.run({ url, connections, tokens: await tokensFor(sandbox, 2_000, 3), seconds: 3 })
    const round = await Load.run({ url, connections, tokens: await tokensFor(sandbox, warmUp.rps, seconds), seconds })
    say(`gateway under profiling: ${round.rps.toFixed(0)} requests/s, ${round.errors} errors`)
  } finally {
    await gateway.stop()
    await sandbox.stop()
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
  say("5. protection on vs off")
  const protection = await protectionOnVsOff(sandbox)
  say(`   ratio ${protection.ratio.toFixed(2)}`)
  await sandbox.stop()
  const others = Machine.othersLoad(runStart, Machine.sample(), (Date.now() - startedAt) / 1000)

  const judged = !smoke
  const errors =
    proxy.gateway.errors +
    proxy.minimal.errors +
    core.core.errors +
    core.fetch.errors +
    rss.errors +
    protection.off.errors +
    protection.on.errors
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
    {
      name: "protection",
      goal: "≥ 0.95 × the gateway with RATE_LIMIT_PER_MINUTE=0, 0 errors",
      measured: `${protection.ratio.toFixed(2)} ×, ${protection.on.errors} errors`,
      pass: protection.ratio >= 0.95 && protection.on.errors === 0,
      judged
    },
    {
      name: "no errors, no crash",
      goal: "every answer a TokenPair; gateways exit 0",
      measured: `${errors} errors, exit codes ${[gatewayExit, rss.exitCode, ...protection.exitCodes].join(", ")}`,
      pass: errors === 0 && [gatewayExit, rss.exitCode, ...protection.exitCodes].every((code) => code === 0),
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
    targets
  }

  say("")
  for (const side of [proxy.gateway, proxy.minimal, core.core, core.fetch, protection.off, protection.on]) {
    say(
      `${side.label.padEnd(28)} ${side.rps.toFixed(0).padStart(7)} requests/s  p50 ${side.p50.toFixed(2).padStart(7)} ms  p99 ${side.p99.toFixed(2).padStart(7)} ms  ${String(side.errors).padStart(3)} errors  ${side.cpuMicros.toFixed(0).padStart(5)} µs CPU/request`
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    Processes.killAll()
    process.exit(1)
  }
)

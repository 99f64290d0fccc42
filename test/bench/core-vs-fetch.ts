/**
 * The core client against a plain `fetch` loop, side by side in one process, against the same
 * upstream at the same concurrency: `DdnAuthClient.refresh` through `DdnAuthNode.layerOptions({ apiUrl })`
 * (as an Effect program composes it, defaults untouched) vs `fetch` + `response.json()`. Every request
 * spends a refresh token of its own, minted ahead of the round; a round is a fixed number of refreshes
 * (about `seconds` at the side's warm-up rate) pulled by `connections` workers from one queue, and
 * rounds alternate which side goes first.
 * Prints one JSON line (`Comparison`) on stdout. `pnpm bench` runs it as a child process; alone:
 *
 *   node --import tsx test/bench/core-vs-fetch.ts <sandbox url> [connections=32] [seconds=5] [rounds=3] [warm-up=4000]
 */
import { DdnAuthClient } from "@ddn/auth"
import { DdnAuthNode } from "@ddn/auth/node"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Load from "./internal/Load.js"

/** One side's figures over a round: a load round's, with the CPU this process spent per refresh (µs). */
export interface SideRound extends Omit<Load.Round, "ranOut"> {
  readonly cpuMicros: number
}

/** What the script prints. */
export interface Comparison {
  readonly connections: number
  readonly core: ReadonlyArray<SideRound>
  readonly fetch: ReadonlyArray<SideRound>
}

/** One refresh by one side: whether it came back as a Bearer grant. */
export type Refresh = (token: string) => Promise<boolean>

/** The raw side: `fetch` + `response.json()` against the sandbox at `sandboxUrl`, nothing else. */
export const fetchRefresh = (sandboxUrl: string): Refresh => {
  const refreshUrl = `${sandboxUrl}${DdnAuthClient.refreshPath}`
  return async (token) => {
    const response = await fetch(refreshUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ refreshToken: token })
    })
    const body = (await response.json()) as { readonly tokenType?: unknown }
    return response.status === 200 && body.tokenType === "Bearer"
  }
}

const measure = async (refresh: Refresh, tokens: ReadonlyArray<string>, connections: number): Promise<SideRound> => {
  const latencies: Array<number> = []
  let next = 0
  let errors = 0
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!
      const sent = performance.now()
      const ok = await refresh(token).catch(() => false)
      latencies.push(performance.now() - sent)
      if (!ok) errors += 1
    }
  }
  await Promise.all(Array.from({ length: connections }, worker))
  const elapsed = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpuBefore)
  latencies.sort((a, b) => a - b)
  return {
    requests: latencies.length,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    p50: Load.quantile(latencies, 0.5),
    p99: Load.quantile(latencies, 0.99),
    errors,
    cpuMicros: (cpu.user + cpu.system) / latencies.length
  }
}

/** Runs `rounds` interleaved rounds of both sides against the sandbox at `sandboxUrl`. */
export const compare = async (options: {
  readonly sandboxUrl: string
  readonly connections: number
  readonly seconds: number
  readonly rounds: number
  /** Refreshes per side before the rounds, to warm the JIT and the connection pools. */
  readonly warmUpRequests: number
}): Promise<Comparison> => {
  const { sandboxUrl, connections, seconds } = options
  const runtime = ManagedRuntime.make(DdnAuthNode.layerOptions({ apiUrl: sandboxUrl }))
  const client = await runtime.runPromise(DdnAuthClient.DdnAuthClient)
  const core: Refresh = (token) =>
    runtime.runPromise(client.refresh(Redacted.make(token))).then((grant) => grant.tokenType === "Bearer")

  const plain = fetchRefresh(sandboxUrl)

  const sides = { core, fetch: plain }
  const results: { core: Array<SideRound>; fetch: Array<SideRound> } = { core: [], fetch: [] }
  const rates = { core: 0, fetch: 0 }
  for (const name of ["core", "fetch"] as const) {
    const tokens = await Load.mintTokens(sandboxUrl, options.warmUpRequests)
    rates[name] = (await measure(sides[name], tokens, connections)).rps
  }
  for (let round = 0; round < options.rounds; round++) {
    const order: ReadonlyArray<keyof typeof sides> = round % 2 === 0 ? ["core", "fetch"] : ["fetch", "core"]
    for (const name of order) {
      const tokens = await Load.mintTokens(sandboxUrl, Math.max(1_000, Math.ceil(rates[name] * seconds)))
      const result = await measure(sides[name], tokens, connections)
      rates[name] = result.rps
      results[name].push(result)
    }
  }
  await runtime.dispose()
  return { connections, ...results }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [sandboxUrl, connections = "32", seconds = "5", rounds = "3", warmUp = "4000"] = process.argv.slice(2)
  if (sandboxUrl === undefined) {
    throw new Error("usage: core-vs-fetch.ts <sandbox url> [connections] [seconds] [rounds] [warm-up]")
  }
  const comparison = await compare({
    sandboxUrl,
    connections: Number(connections),
    seconds: Number(seconds),
    rounds: Number(rounds),
    warmUpRequests: Number(warmUp)
  })
  process.stdout.write(`${JSON.stringify(comparison)}\n`)
}

/**
 * Two gateways side by side (A and B), for measuring one optimisation at a time: the same sandbox
 * upstream, the same load as `pnpm bench` part 1 (autocannon, fresh tokens), rounds interleaved
 * A B, B A, …; prints each side's median requests/s and CPU per request, and B / A. A side is a
 * built entry point plus Node flags and environment, so "before" can be an older build, e.g.
 *
 *   git stash && (cd apps/gateway && npx tsc -p tsconfig.build.json --outDir dist-before --tsBuildInfoFile dist-before/.tsbuildinfo) && git stash pop
 *   node --import tsx test/bench/compare-gateways.ts --a apps/gateway/dist-before/main.js --b apps/gateway/dist/main.js
 *   node --import tsx test/bench/compare-gateways.ts --b-args=--max-semi-space-size=64
 *   node --import tsx test/bench/compare-gateways.ts --a-env LOG_LEVEL=warn --b-env LOG_LEVEL=info
 *   node --import tsx test/bench/compare-gateways.ts --a-env RATE_LIMIT_PER_MINUTE=0
 *
 * Both sides serve metrics on a free port and run the per-client limit where this one-address load
 * never reaches it, unless their environment says otherwise.
 */
import { parseArgs } from "node:util"
import * as Load from "./internal/Load.js"
import * as Machine from "./internal/Machine.js"
import * as Options from "./internal/Options.js"
import * as Processes from "./internal/Processes.js"

const { values } = parseArgs({
  options: {
    a: { type: "string", default: Processes.entries.gateway },
    b: { type: "string", default: Processes.entries.gateway },
    "a-args": { type: "string", default: "" },
    "b-args": { type: "string", default: "" },
    "a-env": { type: "string", default: "" },
    "b-env": { type: "string", default: "" },
    rounds: { type: "string", default: "6" },
    seconds: { type: "string", default: "5" },
    "warm-up": { type: "string", default: "8" },
    connections: { type: "string", default: "32" }
  }
})
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
const connections = Number(values.connections)

const envOf = (text: string): Record<string, string> =>
  Object.fromEntries(Options.words(text.replaceAll(",", " ")).map((pair) => pair.split("=", 2) as [string, string]))

const main = async () => {
  Processes.requireBuild()
  await Machine.waitForQuiet({
    onWait: (load) => process.stdout.write(`waiting for the machine to be quiet (${load.toFixed(2)} cores busy)…\n`)
  })
  const before = Machine.sample()
  const startedAt = Date.now()
  const sandbox = await Processes.sandbox({ SANDBOX_REFRESH_TOKEN_TTL_S: "120" })
  const start = (name: "A" | "B", entry: string, args: string, env: string) =>
    Processes.serve({
      name,
      args: [...Options.words(args), entry],
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        METRICS_PORT: "0",
        RATE_LIMIT_PER_MINUTE: Processes.unreachableRateLimit,
        NODE_ENV: "production",
        LOG_LEVEL: "info",
        DDN_API_URL: sandbox.url,
        ...envOf(env)
      },
      listening: /(?:Gateway|Minimal proxy) listening on (http:\/\/\S+)/
    })
  const sides = [
    await start("A", values.a, values["a-args"], values["a-env"]),
    await start("B", values.b, values["b-args"], values["b-env"])
  ]
  for (const side of sides) {
    const tokens = await Load.mintTokens(sandbox.url, 3_000 * Number(values["warm-up"]))
    await Load.run({ url: `${side.url}/graphql`, connections, tokens, seconds: Number(values["warm-up"]) })
  }
  const figures = new Map(sides.map((side) => [side, { rps: [] as Array<number>, cpu: [] as Array<number> }]))
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
      const tokens = await Load.mintTokens(sandbox.url, 5_000 * seconds)
      const cpuBefore = side.cpuSeconds()
      const result = await Load.run({ url: `${side.url}/graphql`, connections, tokens, seconds })
      const cpu = ((side.cpuSeconds() - cpuBefore) * 1e6) / result.requests
      figures.get(side)!.rps.push(result.rps)
      figures.get(side)!.cpu.push(cpu)
      process.stdout.write(
        `${side.name} ${result.rps.toFixed(0)} requests/s, ${cpu.toFixed(0)} µs CPU/request${result.errors > 0 ? `, ${result.errors} ERRORS` : ""}${result.ranOut ? ", RAN OUT OF TOKENS" : ""}\n`
      )
    }
  }
  await Promise.all([...sides.map((side) => side.stop()), sandbox.stop()])
  const [a, b] = sides.map((side) => figures.get(side)!) as [
    { rps: Array<number>; cpu: Array<number> },
    { rps: Array<number>; cpu: Array<number> }
  ]
  const line = (name: string, side: { rps: Array<number>; cpu: Array<number> }) =>
    `${name}: ${Load.median(side.rps).toFixed(0)} requests/s, ${Load.median(side.cpu).toFixed(0)} µs CPU/request (medians)`
  process.stdout.write(
    `${line("A", a)}\n${line("B", b)}\nB / A: throughput ${(Load.median(b.rps) / Load.median(a.rps)).toFixed(3)}, CPU per request ${(Load.median(b.cpu) / Load.median(a.cpu)).toFixed(3)}; other processes kept ${Machine.othersLoad(before, Machine.sample(), (Date.now() - startedAt) / 1000).toFixed(2)} cores busy meanwhile\n`
  )
}

Processes.runMain(async () => {
  await main()
  return 0
})

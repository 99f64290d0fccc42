/**
 * Two builds of `@ddn/auth` side by side in one process, with raw `fetch` as a third side, for
 * measuring one core optimisation at a time: the same sandbox, 32 concurrent callers, a fresh
 * refresh token per refresh, rounds interleaved (A B fetch, fetch B A, …); prints each side's median
 * CPU per refresh over the rounds. A build is a `dist` directory of `packages/auth` (inside the
 * package, so that it resolves `effect` like the real one), e.g.
 *
 *   git stash && pnpm --filter @ddn/auth build && cp -r packages/auth/dist packages/auth/dist-before && git stash pop
 *   pnpm --filter @ddn/auth build
 *   node --max-semi-space-size=64 --import tsx test/bench/compare-cores.ts <sandbox url> \
 *     --a packages/auth/dist-before --b packages/auth/dist [--through coordinator] [--rounds 6] [--refreshes 5000]
 *
 * `--through client` (default) calls `DdnAuthClient.refresh` as `core-vs-fetch.ts` does;
 * `--through coordinator` calls `RefreshCoordinator.refresh` over it, as the gateway does.
 */
import { resolve } from "node:path"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import type * as Auth from "@ddn/auth"
import type * as AuthNode from "@ddn/auth/node"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { fetchRefresh, type Refresh } from "./core-vs-fetch.js"
import * as Load from "./internal/Load.js"
import * as Processes from "./internal/Processes.js"

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    a: { type: "string", default: "packages/auth/dist" },
    b: { type: "string", default: "packages/auth/dist" },
    through: { type: "string", default: "client" },
    rounds: { type: "string", default: "6" },
    refreshes: { type: "string", default: "5000" }
  }
})
const [sandboxUrl] = positionals
if (sandboxUrl === undefined) throw new Error("usage: compare-cores.ts <sandbox url> [--a dist] [--b dist] …")

const load = async (dist: string): Promise<Refresh> => {
  const entry = (path: string) => import(pathToFileURL(resolve(Processes.root, dist, path)).href)
  const auth = (await entry("index.js")) as typeof Auth & Partial<typeof AuthNode>
  // Builds from before `@ddn/auth/node` export `DdnAuthNode` from the index.
  const { DdnAuthNode } = auth.DdnAuthNode === undefined ? ((await entry("node/index.js")) as typeof AuthNode) : auth
  const client = DdnAuthNode.layerOptions({ apiUrl: sandboxUrl })
  if (values.through === "coordinator") {
    const runtime = ManagedRuntime.make(auth.RefreshCoordinator.layerMemory().pipe(Layer.provide(client)))
    const coordinator = await runtime.runPromise(auth.RefreshCoordinator.RefreshCoordinator)
    return (token) =>
      runtime.runPromise(coordinator.refresh(Redacted.make(token))).then((grant) => grant.tokenType === "Bearer")
  }
  const runtime = ManagedRuntime.make(client)
  const refresher = await runtime.runPromise(auth.DdnAuthClient.DdnAuthClient)
  return (token) =>
    runtime.runPromise(refresher.refresh(Redacted.make(token))).then((grant) => grant.tokenType === "Bearer")
}

const sides: ReadonlyArray<readonly [string, Refresh]> = [
  [`A ${values.a}`, await load(values.a)],
  [`B ${values.b}`, await load(values.b)],
  ["raw fetch", fetchRefresh(sandboxUrl)]
]
const cpu = new Map<string, Array<number>>(sides.map(([name]) => [name, []]))
for (let round = -1; round < Number(values.rounds); round++) {
  for (const [name, refresh] of round % 2 === 0 ? sides : [...sides].reverse()) {
    const tokens = await Load.mintTokens(sandboxUrl, Number(values.refreshes))
    let next = 0
    let errors = 0
    const before = process.cpuUsage()
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < tokens.length) if (!(await refresh(tokens[next++]!).catch(() => false))) errors += 1
      })
    )
    const used = process.cpuUsage(before)
    if (errors > 0) throw new Error(`${name}: ${errors} failed refreshes`)
    // Round -1 warms up the JIT and the connection pools.
    if (round >= 0) cpu.get(name)!.push((used.user + used.system) / tokens.length)
  }
}
for (const [name, samples] of cpu) {
  process.stdout.write(
    `${name.padEnd(40)} ${Load.median(samples).toFixed(0).padStart(5)} µs CPU per refresh (median; rounds ${samples.map((sample) => sample.toFixed(0)).join(" ")})\n`
  )
}
process.exit(0)

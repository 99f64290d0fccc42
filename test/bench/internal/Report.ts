/**
 * What `pnpm bench` measured, printed as text, as the generated part of `RESULTS.md` and as an SVG
 * chart of throughput and latency per side (hand-written SVG, no dependency).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { arch, cpus, loadavg, release, totalmem } from "node:os"

/** One side of a comparison, over its rounds. */
export interface Side {
  readonly label: string
  /** Median of the rounds. */
  readonly rps: number
  readonly p50: number
  readonly p99: number
  /** Over all rounds. */
  readonly requests: number
  readonly errors: number
  /** Median CPU time of the side's own process per request, in microseconds (NaN when not measured). */
  readonly cpuMicros: number
  /** Each round's requests per second, in order. */
  readonly roundRps: ReadonlyArray<number>
}

/** A target and whether it held. */
export interface Target {
  readonly name: string
  readonly goal: string
  readonly measured: string
  readonly pass: boolean
  /** Smoke runs print ratio targets without judging them. */
  readonly judged: boolean
}

/** Everything one run produced. */
export interface Results {
  readonly date: string
  readonly command: string
  readonly smoke: boolean
  readonly settings: {
    readonly connections: number
    readonly seconds: number
    readonly rounds: number
    readonly warmUpSeconds: number
    readonly logLevel: string
    readonly memoryRequests: number
    /** Node flags of the gateway, the minimal proxy and the core-vs-fetch process. */
    readonly nodeArgs: string
  }
  readonly machine: {
    /** Cores other processes used just before the run. */
    readonly quietBefore: number
    /** Cores other processes used on average during the run. */
    readonly othersDuring: number
    readonly minutes: number
  }
  readonly proxy: {
    readonly gateway: Side
    readonly minimal: Side
    readonly ratio: number
    readonly upstreamCpuMicros: number
  }
  readonly core: { readonly core: Side; readonly fetch: Side; readonly ratio: number }
  readonly singleFlight: {
    readonly requests: number
    readonly upstreamCalls: number
    readonly tokenPairs: number
    readonly distinctPairs: number
    readonly coalesced: number
    readonly reused: number
  }
  readonly memory: {
    readonly warmUpRequests: number
    readonly requests: number
    readonly errors: number
    readonly rps: number
    readonly rssAfterWarmUpMiB: number
    readonly rssAfterMiB: number
    readonly rssPeakMiB: number
    readonly growthMiB: number
    /** V8 heap in use (`nodejs_heap_size_used_bytes`), for telling a leak from heap sizing. */
    readonly heapAfterWarmUpMiB: number
    readonly heapAfterMiB: number
  }
  readonly variants: ReadonlyArray<VariantResult>
  readonly targets: ReadonlyArray<Target>
}

/** A setting of the gateway against the gateway without it. */
export interface VariantResult {
  readonly name: string
  readonly baseline: Side
  readonly variant: Side
  readonly ratio: number
  readonly goal: number
  readonly exitCodes: ReadonlyArray<number | null>
}

/** The machine, in one line. */
export const machine = (): string => {
  const cores = cpus()
  return `${cores[0]?.model.trim() ?? "unknown CPU"}, ${cores.length} cores (${arch()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}; load average ${loadavg()
    .map((load) => load.toFixed(2))
    .join(" ")} at the start`
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : "–")
const ms = (value: number) => fixed(value, value < 10 ? 2 : 1)

const sideRow = (side: Side) =>
  `| ${side.label} | ${fixed(side.rps)} | ${ms(side.p50)} | ${ms(side.p99)} | ${side.requests} | ${side.errors} | ${fixed(side.cpuMicros)} | ${side.roundRps.map((rps) => fixed(rps)).join(", ")} |`

const verdict = (target: Target) => (target.judged ? (target.pass ? "**PASS**" : "**FAIL**") : "not judged (smoke)")

/** The generated Markdown: settings, tables, targets. */
export const markdown = (results: Results, machineLine: string): string => {
  const { proxy, core, singleFlight, memory, settings, variants } = results
  return [
    `Run on ${results.date} with \`${results.command}\`${results.smoke ? " (a smoke run: too short to judge ratios)" : ""}.`,
    "",
    `Machine: ${machineLine}. The run took ${fixed(results.machine.minutes, 1)} min; other processes kept ${fixed(results.machine.othersDuring, 2)} cores busy on average meanwhile (${fixed(results.machine.quietBefore, 2)} just before).`,
    "",
    `Settings: ${settings.connections} connections, ${settings.rounds} interleaved round(s) of ${settings.seconds} s per side after ${settings.warmUpSeconds} s of warm-up each, gateway \`NODE_ENV=production LOG_LEVEL=${settings.logLevel}\` from \`dist\`, \`node ${settings.nodeArgs || "(no flags)"}\` for the gateway, the minimal proxy and the core-vs-fetch process alike, the standalone sandbox with no faults and no latency as the upstream of both sides, a fresh refresh token per request. Figures are medians over the rounds; CPU is the side's own process per request (all its threads).`,
    "",
    "| target | goal | measured | result |",
    "|---|---|---|---|",
    ...results.targets.map((target) => `| ${target.name} | ${target.goal} | ${target.measured} | ${verdict(target)} |`),
    "",
    "### 1. Gateway vs the minimal proxy (autocannon)",
    "",
    "| side | requests/s | p50 ms | p99 ms | requests | errors | CPU µs/request | rounds (requests/s) |",
    "|---|---|---|---|---|---|---|---|",
    sideRow(proxy.gateway),
    sideRow(proxy.minimal),
    "",
    `Throughput ratio gateway / minimal: **${fixed(proxy.ratio, 2)}**. The sandbox spent ${fixed(proxy.upstreamCpuMicros)} µs of CPU per refresh.`,
    "",
    "### 2. Core client vs raw fetch (same process, same upstream)",
    "",
    "| side | requests/s | p50 ms | p99 ms | requests | errors | CPU µs/request | rounds (requests/s) |",
    "|---|---|---|---|---|---|---|---|",
    sideRow(core.core),
    sideRow(core.fetch),
    "",
    `Throughput ratio core / fetch: **${fixed(core.ratio, 2)}**.`,
    "",
    "### 3. Single-flight",
    "",
    `${singleFlight.requests} concurrent \`refreshToken\` mutations of one token through the gateway (the upstream held its answer for 1 s so that all of them overlap): **${singleFlight.upstreamCalls} upstream call(s)** (sandbox \`GET /sandbox/stats\`), ${singleFlight.tokenPairs} token pairs answered, ${singleFlight.distinctPairs} distinct pair(s); the gateway counted ${singleFlight.coalesced} coalesced and ${singleFlight.reused} reused.`,
    "",
    "### 4. Memory",
    "",
    `A fresh gateway: RSS **${fixed(memory.rssAfterWarmUpMiB, 1)} MiB** after ${memory.warmUpRequests} warm-up requests, **${fixed(memory.rssAfterMiB, 1)} MiB** after ${memory.requests} more requests with unique tokens (reuse window on, 10 s), peak ${fixed(memory.rssPeakMiB, 1)} MiB: growth **${fixed(memory.growthMiB, 1)} MiB** at ${fixed(memory.rps)} requests/s, ${memory.errors} errors. V8 heap in use: ${fixed(memory.heapAfterWarmUpMiB, 1)} MiB after warm-up, ${fixed(memory.heapAfterMiB, 1)} MiB at the end.`,
    "",
    "### 5. Settings compared",
    "",
    "Each setting on a fresh gateway, side by side with a fresh gateway without it, in interleaved rounds.",
    "",
    "| side | requests/s | p50 ms | p99 ms | requests | errors | CPU µs/request | rounds (requests/s) |",
    "|---|---|---|---|---|---|---|---|",
    ...variants.flatMap((variant) => [sideRow(variant.baseline), sideRow(variant.variant)]),
    "",
    ...variants.map(
      (variant) => `${variant.name}: ratio **${fixed(variant.ratio, 2)}** (target ≥ ${fixed(variant.goal, 2)}).`
    ),
    "",
    "![throughput and latency per side](results.svg)"
  ].join("\n")
}

/**
 * Replaces one generated part of `RESULTS.md` at `path` (between its `<!-- section:begin -->` and
 * `<!-- section:end -->` markers, appended when missing), keeping the rest of the file.
 */
export const writeMarkdown = (path: string, generated: string, section = "bench:results"): void => {
  const begin = `<!-- ${section}:begin -->`
  const end = `<!-- ${section}:end -->`
  const block = `${begin}\n${generated}\n${end}`
  const current = existsSync(path) ? readFileSync(path, "utf8") : `# Benchmark results\n\n${begin}\n${end}\n`
  const from = current.indexOf(begin)
  const to = current.indexOf(end)
  const next =
    from === -1 || to === -1
      ? `${current.trimEnd()}\n\n${block}\n`
      : current.slice(0, from) + block + current.slice(to + end.length)
  writeFileSync(path, next)
}

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** Two panels: requests/s per side (bars), and p50/p99 latency per side (paired bars). */
export const chart = (results: Results): string => {
  const sides = [
    { name: "gateway", side: results.proxy.gateway, colour: "#2563eb" },
    { name: "minimal proxy", side: results.proxy.minimal, colour: "#9ca3af" },
    { name: "core client", side: results.core.core, colour: "#059669" },
    { name: "raw fetch", side: results.core.fetch, colour: "#9ca3af" }
  ]
  const width = 900
  const rowHeight = 34
  const top = 64
  const labelWidth = 130
  const rpsWidth = 300
  const latencyX = labelWidth + rpsWidth + 90
  const latencyWidth = width - latencyX - 130
  const height = top + sides.length * rowHeight + 70
  const maxRps = Math.max(...sides.map(({ side }) => side.rps).filter(Number.isFinite), 1)
  const maxLatency = Math.max(...sides.map(({ side }) => side.p99).filter(Number.isFinite), 1)
  const bar = (value: number, max: number, span: number) => (Number.isFinite(value) ? (value / max) * span : 0)
  const parts: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="22" font-size="15" font-weight="600">${escapeXml(`pnpm bench, ${results.date.slice(0, 10)}: throughput and latency per side, ${results.settings.connections} connections`)}</text>`,
    `<text x="${labelWidth}" y="48" font-weight="600">requests/s (median of rounds)</text>`,
    `<text x="${latencyX}" y="48" font-weight="600">latency in ms: p50 (dark) / p99 (light)</text>`
  ]
  sides.forEach(({ name, side, colour }, index) => {
    const y = top + index * rowHeight + (index >= 2 ? 10 : 0)
    const rps = bar(side.rps, maxRps, rpsWidth)
    const p50 = bar(side.p50, maxLatency, latencyWidth)
    const p99 = bar(side.p99, maxLatency, latencyWidth)
    parts.push(
      `<text x="16" y="${y + 17}">${escapeXml(name)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${rps.toFixed(1)}" height="18" fill="${colour}"/>`,
      `<text x="${(labelWidth + rps + 6).toFixed(1)}" y="${y + 17}">${fixed(side.rps)}</text>`,
      `<rect x="${latencyX}" y="${y + 2}" width="${p99.toFixed(1)}" height="22" fill="${colour}" fill-opacity="0.35"/>`,
      `<rect x="${latencyX}" y="${y + 8}" width="${p50.toFixed(1)}" height="10" fill="${colour}"/>`,
      `<text x="${(latencyX + p99 + 6).toFixed(1)}" y="${y + 17}">${ms(side.p50)} / ${ms(side.p99)}</text>`
    )
  })
  const footY = top + sides.length * rowHeight + 34
  parts.push(
    `<text x="16" y="${footY}">${escapeXml(`gateway / minimal proxy (HTTP, autocannon): ${fixed(results.proxy.ratio, 2)}, target ≥ 0.80 · core client / raw fetch (in process): ${fixed(results.core.ratio, 2)}, target ≥ 0.95`)}</text>`,
    `<text x="16" y="${footY + 18}" fill="#6b7280">${escapeXml(`single-flight: ${results.singleFlight.upstreamCalls} upstream call for ${results.singleFlight.requests} concurrent refreshes · RSS growth over ${results.memory.requests} requests: ${fixed(results.memory.growthMiB, 1)} MiB`)}</text>`,
    "</svg>"
  )
  return `${parts.join("\n")}\n`
}

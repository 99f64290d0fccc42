/**
 * Records one refresh's trace and draws it as a waterfall: starts the sandbox, an OTLP receiver and
 * a real gateway process (`apps/gateway/dist/main.js`, so `pnpm build` first) exporting to it, makes
 * DDN answer 503 and then hang once, so the refresh is retried twice before it succeeds, and writes
 * the spans to `docs/trace.json` and the picture to `docs/trace.svg`.
 *
 *   pnpm trace:svg                       # record and draw
 *   node --import tsx test/trace/trace-waterfall.ts --from docs/trace.json   # draw again
 */
import { readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { killAll, listeningUrl, refresh, spawnGateway, startSandbox } from "../gateway/support.js"
import * as OtlpReceiver from "../support/OtlpReceiver.js"

interface Recorded {
  readonly name: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly kind: number
  readonly startMs: number
  readonly endMs: number
  readonly error: boolean
  readonly attributes: Readonly<Record<string, unknown>>
  readonly events: ReadonlyArray<{ readonly name: string; readonly atMs: number; readonly label: string }>
}

const docs = (name: string) => fileURLToPath(new URL(`../../docs/${name}`, import.meta.url))

const record = async (): Promise<ReadonlyArray<Recorded>> => {
  const sandbox = await startSandbox()
  const receiver = await OtlpReceiver.start()
  const gateway = spawnGateway({
    DDN_API_URL: sandbox.url,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_BSP_SCHEDULE_DELAY: "20",
    DDN_ATTEMPT_TIMEOUT_MS: "300",
    LOG_LEVEL: "none"
  })
  try {
    const graphqlUrl = `${await listeningUrl(gateway)}/graphql`
    // A warm-up refresh, so the picture shows steady-state times rather than the first request's.
    await refresh(graphqlUrl, sandbox.authority.mintSession().refreshToken)
    sandbox.faults.inject({ type: "status", status: 503 })
    sandbox.faults.inject({ type: "hang", phase: "before" })
    const response = await refresh(graphqlUrl, sandbox.authority.mintSession().refreshToken)
    const traceId = response.headers.get("traceparent")!.split("-")[1]!
    const spans = (
      await receiver.waitFor((all) => all.some((span) => span.traceId === traceId && span.kind === 2))
    ).filter((span) => span.traceId === traceId)
    let origin = spans[0]!.startNanos
    for (const span of spans) if (span.startNanos < origin) origin = span.startNanos
    const ms = (nanos: bigint) => Number(nanos - origin) / 1e6
    return spans.map((span) => ({
      name: span.name,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      kind: span.kind,
      startMs: ms(span.startNanos),
      endMs: ms(span.endNanos),
      error: span.status.code === 2,
      attributes: span.attributes,
      events: span.events.map((event) => ({
        name: event.name,
        atMs: ms(event.timeNanos),
        label:
          event.name === "ddn.retry"
            ? `retry ${event.attributes["ddn.retry.number"]}: ${event.attributes["error.type"]}, wait ${event.attributes["ddn.retry.delay_ms"]} ms`
            : event.name
      }))
    }))
  } finally {
    await killAll()
    await receiver.stop()
    await sandbox.stop()
  }
}

/** The spans depth first, children by start time, with their depth. */
const ordered = (spans: ReadonlyArray<Recorded>) => {
  const ids = new Set(spans.map((span) => span.spanId))
  const rows: Array<{ span: Recorded; depth: number }> = []
  const visit = (span: Recorded, depth: number) => {
    rows.push({ span, depth })
    for (const child of spans
      .filter((candidate) => candidate.parentSpanId === span.spanId)
      .sort((a, b) => a.startMs - b.startMs)) {
      visit(child, depth + 1)
    }
  }
  for (const root of spans.filter((span) => !ids.has(span.parentSpanId))) visit(root, 0)
  return rows
}

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** What a span's row says after its name: the attributes a reader looks for. */
const detail = (span: Recorded): string => {
  const a = span.attributes
  const parts = [
    a["http.response.status_code"] !== undefined ? `HTTP ${a["http.response.status_code"]}` : undefined,
    a["status.interrupted"] === true ? "interrupted (attempt timeout)" : undefined,
    a["ddn.refresh.source"] !== undefined ? `source ${a["ddn.refresh.source"]}` : undefined,
    a["ddn.refresh.outcome"] !== undefined ? `outcome ${a["ddn.refresh.outcome"]}` : undefined
  ]
  return parts.filter((part) => part !== undefined).join(" · ")
}

const draw = (spans: ReadonlyArray<Recorded>): string => {
  const rows = ordered(spans)
  const total = Math.max(...spans.map((span) => span.endMs))
  const labelWidth = 330
  const chartWidth = 640
  const rowHeight = 34
  const top = 56
  const height = top + rows.length * rowHeight + 40
  const width = labelWidth + chartWidth + 30
  const x = (ms: number) => labelWidth + (ms / total) * chartWidth
  const colours: Record<number, string> = { 1: "#6c8ebf", 2: "#82b366", 3: "#d79b00" }
  const tick = total > 400 ? 100 : total > 100 ? 25 : 5
  const lines: Array<string> = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">One refreshToken mutation, retried twice (503, then an attempt timeout), ${total.toFixed(0)} ms</text>`,
    `<text x="12" y="40" fill="#555">server span · internal span · http.client span, one per DDN attempt; red = error; ◆ = ddn.retry event</text>`
  ]
  for (let ms = 0; ms <= total; ms += tick) {
    lines.push(`<line x1="${x(ms)}" y1="${top - 6}" x2="${x(ms)}" y2="${height - 30}" stroke="#eee"/>`)
    lines.push(`<text x="${x(ms)}" y="${height - 14}" text-anchor="middle" fill="#777">${ms} ms</text>`)
  }
  rows.forEach(({ span, depth }, index) => {
    const y = top + index * rowHeight
    const fill = span.error ? "#b85450" : (colours[span.kind] ?? "#999")
    const barWidth = Math.max(2, x(span.endMs) - x(span.startMs))
    lines.push(`<text x="${12 + depth * 14}" y="${y + 13}" font-weight="bold">${xml(span.name)}</text>`)
    lines.push(`<text x="${12 + depth * 14}" y="${y + 27}" fill="#555" font-size="11">${xml(detail(span))}</text>`)
    lines.push(`<rect x="${x(span.startMs)}" y="${y + 3}" width="${barWidth}" height="16" rx="3" fill="${fill}"/>`)
    const duration = `${(span.endMs - span.startMs).toFixed(1)} ms`
    const after = x(span.endMs) + 4
    lines.push(
      after + 60 < width
        ? `<text x="${after}" y="${y + 15}" fill="#333">${duration}</text>`
        : `<text x="${x(span.startMs) - 4}" y="${y + 15}" fill="#333" text-anchor="end">${duration}</text>`
    )
    span.events.forEach((event, n) => {
      const ex = x(event.atMs)
      lines.push(`<path d="M ${ex} ${y + 21} l 5 5 l -5 5 l -5 -5 z" fill="#333"/>`)
      lines.push(`<text x="${ex + 8}" y="${y + 30 + n * 0}" fill="#333" font-size="10">${xml(event.label)}</text>`)
    })
  })
  lines.push("</svg>")
  return `${lines.join("\n")}\n`
}

const from = process.argv.indexOf("--from")
const spans: ReadonlyArray<Recorded> =
  from === -1 ? await record() : (JSON.parse(readFileSync(process.argv[from + 1]!, "utf8")) as ReadonlyArray<Recorded>)
if (from === -1) writeFileSync(docs("trace.json"), `${JSON.stringify(spans, null, 2)}\n`)
writeFileSync(docs("trace.svg"), draw(spans))
process.stdout.write(`wrote docs/trace.svg (${spans.length} spans)\n`)

/**
 * Prometheus metrics for `GET /metrics`, with prom-client on a registry of the gateway's own:
 *
 * - `ddn_gateway_refreshes_total{outcome}` and `ddn_gateway_refresh_duration_seconds{outcome}`,
 *   recorded by the gateway per refresh (every outcome pre-declared at 0);
 * - the core's Effect metrics, named, described and labelled by `RefreshMetrics.descriptors` (the
 *   upstream attempts by outcome, retries, coalesced and reused refreshes, attempts refused locally
 *   by reason, the coordination's fallbacks, takeovers and degraded gauge), and the tracing's
 *   `ddn_gateway_trace_spans_dropped_total{reason}`, read from the Effect metric registry at scrape
 *   time (a prom-client `collect` callback over `Metric.snapshot`), so the hot path pays nothing
 *   for them; every label value is reported, at 0 before its first use;
 * - the client's upstream status at scrape time: `ddn_upstream_circuit_state` (0 closed, 1 half-open,
 *   2 open), `ddn_upstream_in_flight`, `ddn_upstream_paused_seconds` (left in DDN's pause, 0 when none);
 * - Node's default process metrics (`process_*`, `nodejs_*`).
 *
 * Labels hold outcome classes only, never a token.
 *
 * @since 0.1.0
 */
import { type DdnAuthClient, RefreshMetrics } from "@ddn/auth"
import * as DateTime from "effect/DateTime"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client"
import * as RefreshResult from "./RefreshResult.js"
import * as Tracing from "./Tracing.js"

/** Reads the Effect metric registry, e.g. `() => runtime.runSync(Metric.snapshot)`. */
export type EffectSnapshot = () => ReadonlyArray<MetricPair.MetricPair.Untyped>

/**
 * Reads the client's upstream status and the time it was read at, from the runtime's `Clock`, e.g.
 * `() => runtime.runSync(Effect.zip(client.upstream, Clock.currentTimeMillis))`.
 */
export type UpstreamReader = () => readonly [status: DdnAuthClient.UpstreamStatus, nowMillis: number]

/** The values of `ddn_upstream_circuit_state`. */
export const circuitStates: Readonly<Record<DdnAuthClient.UpstreamStatus["circuit"], number>> = {
  closed: 0,
  half_open: 1,
  open: 2
}

/** The gateway's metrics. */
export interface GatewayMetrics {
  /** Counts one refresh and its latency. */
  readonly observeRefresh: (outcome: RefreshResult.Outcome, seconds: number) => void
  /** The Prometheus text exposition of every metric. */
  readonly render: () => Promise<string>
  /** The `Content-Type` of {@link GatewayMetrics.render}'s text. */
  readonly contentType: string
}

/** Latency buckets in seconds, up to the default 10 s deadline. */
export const latencyBuckets: ReadonlyArray<number> = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The Effect metrics read at scrape time: the core's, named and described by their
 * `RefreshMetrics.descriptors`, and the tracing's spans dropped.
 */
const bridged: ReadonlyArray<RefreshMetrics.Descriptor> = [
  ...Object.values(RefreshMetrics.descriptors),
  Tracing.spansDroppedDescriptor
]

const countOf = (state: MetricState.MetricState.Untyped): number =>
  MetricState.isCounterState(state) ? Number(state.count) : 0

const gaugeOf = (state: MetricState.MetricState.Untyped): number =>
  MetricState.isGaugeState(state) ? Number(state.value) : 0

/**
 * Makes the registry and its metrics; `snapshot` reads the Effect metrics at scrape time, and
 * `upstream` (when given) the client's upstream status.
 */
export const make = (snapshot: EffectSnapshot, upstream?: UpstreamReader): GatewayMetrics => {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const refreshes = new Counter({
    name: "ddn_gateway_refreshes_total",
    help: "refreshToken mutations by outcome",
    labelNames: ["outcome"],
    registers: [registry]
  })
  const duration = new Histogram({
    name: "ddn_gateway_refresh_duration_seconds",
    help: "Latency of refreshToken mutations in seconds, by outcome",
    labelNames: ["outcome"],
    buckets: [...latencyBuckets],
    registers: [registry]
  })
  const byOutcome = new Map(
    RefreshResult.outcomes.map((outcome) => [
      outcome,
      { count: refreshes.labels(outcome), time: duration.labels(outcome) }
    ])
  )
  for (const outcome of RefreshResult.outcomes) {
    refreshes.labels(outcome).inc(0)
    duration.zero({ outcome })
  }

  for (const metric of bridged.filter((descriptor) => descriptor.type === "counter")) {
    const label = metric.label
    new Counter({
      name: metric.name,
      help: metric.help,
      labelNames: label === undefined ? [] : [label.name],
      registers: [registry],
      collect() {
        this.reset()
        if (label === undefined) this.inc(0)
        else for (const value of label.values) this.inc({ [label.name]: value }, 0)
        for (const pair of snapshot()) {
          if (pair.metricKey.name !== metric.name) continue
          const value = countOf(pair.metricState)
          if (label === undefined) {
            if (pair.metricKey.tags.length === 0) this.inc(value)
            continue
          }
          const tag = pair.metricKey.tags.find((t) => t.key === label.name)
          if (tag !== undefined) this.inc({ [label.name]: tag.value }, value)
        }
      }
    })
  }

  for (const metric of bridged.filter((descriptor) => descriptor.type === "gauge")) {
    new Gauge({
      name: metric.name,
      help: metric.help,
      registers: [registry],
      collect() {
        const pair = snapshot().find((candidate) => candidate.metricKey.name === metric.name)
        this.set(pair === undefined ? 0 : gaugeOf(pair.metricState))
      }
    })
  }

  if (upstream !== undefined) {
    const upstreamGauges: ReadonlyArray<{
      readonly name: string
      readonly help: string
      readonly read: (status: DdnAuthClient.UpstreamStatus, nowMillis: number) => number
    }> = [
      {
        name: "ddn_upstream_circuit_state",
        help: "The circuit breaker on DDN calls: 0 closed, 1 half-open (a probe decides), 2 open (calls refused)",
        read: (status) => circuitStates[status.circuit]
      },
      {
        name: "ddn_upstream_in_flight",
        help: "Upstream calls to DDN in flight now",
        read: (status) => status.inFlight
      },
      {
        name: "ddn_upstream_paused_seconds",
        help: "Seconds left in the pause DDN asked for with Retry-After (0 when calls may go ahead)",
        read: (status, now) =>
          status.pausedUntil._tag === "None"
            ? 0
            : Math.max(0, (DateTime.toEpochMillis(status.pausedUntil.value) - now) / 1000)
      }
    ]
    for (const gauge of upstreamGauges) {
      new Gauge({
        name: gauge.name,
        help: gauge.help,
        registers: [registry],
        collect() {
          this.set(gauge.read(...upstream()))
        }
      })
    }
  }

  return {
    observeRefresh: (outcome, seconds) => {
      const series = byOutcome.get(outcome)!
      series.count.inc()
      series.time.observe(seconds)
    },
    render: () => registry.metrics(),
    contentType: registry.contentType
  }
}

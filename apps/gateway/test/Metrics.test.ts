import { RefreshMetrics } from "@ddn/auth"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Metrics from "../src/Metrics.js"

/** The lines of the exposition about the Effect metrics bridged from the core and the tracing. */
const bridgedLines = (text: string) =>
  text
    .split("\n")
    .filter((line) =>
      /^(# (HELP|TYPE) )?ddn_(upstream_(attempts|retries|refused)|refresh_|coordination_|gateway_trace_)/.test(line)
    )

describe("Metrics", () => {
  it("renders the core's metrics and the dropped spans with their help, type and every label value at 0", async () => {
    const text = await Metrics.make(() => []).render()
    expect(bridgedLines(text)).toEqual([
      "# HELP ddn_upstream_attempts_total HTTP attempts made to the DDN refresh endpoint, by outcome (status class, timeout or transport)",
      "# TYPE ddn_upstream_attempts_total counter",
      'ddn_upstream_attempts_total{outcome="2xx"} 0',
      'ddn_upstream_attempts_total{outcome="3xx"} 0',
      'ddn_upstream_attempts_total{outcome="4xx"} 0',
      'ddn_upstream_attempts_total{outcome="5xx"} 0',
      'ddn_upstream_attempts_total{outcome="timeout"} 0',
      'ddn_upstream_attempts_total{outcome="transport"} 0',
      "# HELP ddn_upstream_retries_total Retries of the DDN refresh endpoint after a transient failure",
      "# TYPE ddn_upstream_retries_total counter",
      "ddn_upstream_retries_total 0",
      "# HELP ddn_refresh_coalesced_total Refreshes that shared an in-flight upstream call for the same refresh token",
      "# TYPE ddn_refresh_coalesced_total counter",
      "ddn_refresh_coalesced_total 0",
      "# HELP ddn_refresh_reused_total Refreshes answered from the reuse window without an upstream call",
      "# TYPE ddn_refresh_reused_total counter",
      "ddn_refresh_reused_total 0",
      "# HELP ddn_upstream_refused_total Upstream attempts refused locally, by reason (circuit open, paused by DDN, in-flight bound)",
      "# TYPE ddn_upstream_refused_total counter",
      'ddn_upstream_refused_total{reason="open"} 0',
      'ddn_upstream_refused_total{reason="paused"} 0',
      'ddn_upstream_refused_total{reason="in_flight"} 0',
      "# HELP ddn_coordination_fallbacks_total Refreshes coordinated within this instance because Redis failed or timed out",
      "# TYPE ddn_coordination_fallbacks_total counter",
      "ddn_coordination_fallbacks_total 0",
      "# HELP ddn_coordination_takeovers_total Refreshes taken over from an instance whose lease lapsed",
      "# TYPE ddn_coordination_takeovers_total counter",
      "ddn_coordination_takeovers_total 0",
      "# HELP ddn_gateway_trace_spans_dropped_total Spans dropped before reaching the collector (tracing on): queue_full or export_failed",
      "# TYPE ddn_gateway_trace_spans_dropped_total counter",
      'ddn_gateway_trace_spans_dropped_total{reason="queue_full"} 0',
      'ddn_gateway_trace_spans_dropped_total{reason="export_failed"} 0',
      "# HELP ddn_coordination_degraded 1 while refreshes are coordinated within this instance because Redis is unreachable",
      "# TYPE ddn_coordination_degraded gauge",
      "ddn_coordination_degraded 0"
    ])
  })

  it("reads the values from the Effect metric registry at scrape time", async () => {
    const metrics = Metrics.make(() => Effect.runSync(Metric.snapshot))
    Effect.runSync(
      Effect.all([
        Metric.incrementBy(Metric.tagged(RefreshMetrics.upstreamAttempts, "outcome", "5xx"), 3),
        Metric.increment(RefreshMetrics.upstreamRetries),
        Metric.increment(Metric.tagged(RefreshMetrics.upstreamRefused, "reason", "in_flight")),
        Metric.set(RefreshMetrics.coordinationDegraded, 1)
      ])
    )
    const lines = bridgedLines(await metrics.render())
    expect(lines).toContain('ddn_upstream_attempts_total{outcome="5xx"} 3')
    expect(lines).toContain('ddn_upstream_attempts_total{outcome="2xx"} 0')
    expect(lines).toContain("ddn_upstream_retries_total 1")
    expect(lines).toContain('ddn_upstream_refused_total{reason="in_flight"} 1')
    expect(lines).toContain("ddn_coordination_degraded 1")
  })
})

/**
 * Effect metrics of the refresh client, for any exporter (the gateway renders them as Prometheus).
 * Labels hold outcome classes only, never a token.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"

/** Upstream HTTP attempts, labelled `outcome`: a status class (`2xx`, `4xx`, `5xx`), `timeout` or `transport`. */
export const upstreamAttempts = Metric.counter("ddn_upstream_attempts_total", {
  description: "HTTP attempts made to the DDN refresh endpoint",
  incremental: true
})

/** Attempts that were retries of an earlier transient failure. */
export const upstreamRetries = Metric.counter("ddn_upstream_retries_total", {
  description: "Retries of the DDN refresh endpoint after a transient failure",
  incremental: true
})

/**
 * Upstream attempts this client refused to make, labelled `reason`: `open` (the circuit breaker is
 * open), `paused` (DDN's `Retry-After` outlasts the refresh's deadline) or `in_flight` (the
 * in-flight bound is reached).
 */
export const upstreamRefused = Metric.counter("ddn_upstream_refused_total", {
  description: "Upstream attempts refused locally, by reason (circuit open, paused by DDN, in-flight bound)",
  incremental: true
})

/** Refreshes that joined a refresh of the same token already in flight, instead of calling the upstream. */
export const coalesced = Metric.counter("ddn_refresh_coalesced_total", {
  description: "Refreshes that shared an in-flight upstream call for the same refresh token",
  incremental: true
})

/** Refreshes answered from the reuse window, without an upstream call. */
export const reused = Metric.counter("ddn_refresh_reused_total", {
  description: "Refreshes answered from the reuse window without an upstream call",
  incremental: true
})

/** 1 while a Redis coordinator cannot reach Redis and coordinates within this process; 0 otherwise. */
export const coordinationDegraded = Metric.gauge("ddn_coordination_degraded", {
  description: "1 while refreshes are coordinated within this instance because Redis is unreachable"
})

/** Refreshes a Redis coordinator ran locally because Redis failed or was too slow mid-way. */
export const coordinationFallbacks = Metric.counter("ddn_coordination_fallbacks_total", {
  description: "Refreshes coordinated within this instance because Redis failed or timed out",
  incremental: true
})

/** Waiters that took a refresh over after its holder's lease lapsed (the holder died or lost Redis). */
export const coordinationTakeovers = Metric.counter("ddn_coordination_takeovers_total", {
  description: "Refreshes taken over from an instance whose lease lapsed",
  incremental: true
})

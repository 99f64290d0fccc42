/**
 * Effect metrics of the refresh client, for any exporter, and their {@link descriptors}: the one
 * place their names, help texts, types and labels are written (the gateway renders its Prometheus
 * text from them). Labels hold outcome classes only, never a token.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"

/**
 * How an exporter presents a metric: its name, help text and type, and the label that splits it with
 * every value that label takes, so that each can be reported at 0 before its first use.
 *
 * @since 0.1.0
 * @category models
 */
export interface Descriptor {
  readonly name: string
  readonly help: string
  readonly type: "counter" | "gauge"
  readonly label?: { readonly name: string; readonly values: ReadonlyArray<string> } | undefined
}

/**
 * The descriptor of every metric below, in the order an exporter lists them. Each Effect `Metric`
 * is made from its descriptor (the help text is its description).
 *
 * @since 0.1.0
 * @category descriptors
 */
export const descriptors = {
  upstreamAttempts: {
    name: "ddn_upstream_attempts_total",
    help: "HTTP attempts made to the DDN refresh endpoint, by outcome (status class, timeout or transport)",
    type: "counter",
    label: { name: "outcome", values: ["2xx", "3xx", "4xx", "5xx", "timeout", "transport"] }
  },
  upstreamRetries: {
    name: "ddn_upstream_retries_total",
    help: "Retries of the DDN refresh endpoint after a transient failure",
    type: "counter"
  },
  coalesced: {
    name: "ddn_refresh_coalesced_total",
    help: "Refreshes that shared an in-flight upstream call for the same refresh token",
    type: "counter"
  },
  reused: {
    name: "ddn_refresh_reused_total",
    help: "Refreshes answered from the reuse window without an upstream call",
    type: "counter"
  },
  upstreamRefused: {
    name: "ddn_upstream_refused_total",
    help: "Upstream attempts refused locally, by reason (circuit open, paused by DDN, in-flight bound)",
    type: "counter",
    label: { name: "reason", values: ["open", "paused", "in_flight"] }
  },
  coordinationFallbacks: {
    name: "ddn_coordination_fallbacks_total",
    help: "Refreshes coordinated within this instance because Redis failed or timed out",
    type: "counter"
  },
  coordinationTakeovers: {
    name: "ddn_coordination_takeovers_total",
    help: "Refreshes taken over from an instance whose lease lapsed",
    type: "counter"
  },
  coordinationDegraded: {
    name: "ddn_coordination_degraded",
    help: "1 while refreshes are coordinated within this instance because Redis is unreachable",
    type: "gauge"
  }
} as const satisfies Record<string, Descriptor>

/** The Effect counter that `descriptor` describes (incremental, its help as the description). */
const counter = (descriptor: Descriptor): Metric.Metric.Counter<number> =>
  Metric.counter(descriptor.name, { description: descriptor.help, incremental: true })

/** The Effect gauge that `descriptor` describes (its help as the description). */
const gauge = (descriptor: Descriptor): Metric.Metric.Gauge<number> =>
  Metric.gauge(descriptor.name, { description: descriptor.help })

/**
 * Upstream HTTP attempts, labelled `outcome`: a status class (`2xx`, `3xx`, `4xx`, `5xx`), `timeout`
 * or `transport`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const upstreamAttempts = counter(descriptors.upstreamAttempts)

/**
 * Attempts that were retries of an earlier transient failure.
 *
 * @since 0.1.0
 * @category metrics
 */
export const upstreamRetries = counter(descriptors.upstreamRetries)

/**
 * Upstream attempts this client refused to make, labelled `reason`: `open` (the circuit breaker is
 * open), `paused` (DDN's `Retry-After` outlasts the refresh's deadline) or `in_flight` (the
 * in-flight bound is reached).
 *
 * @since 0.1.0
 * @category metrics
 */
export const upstreamRefused = counter(descriptors.upstreamRefused)

/**
 * Refreshes that joined a refresh of the same token already in flight, instead of calling the upstream.
 *
 * @since 0.1.0
 * @category metrics
 */
export const coalesced = counter(descriptors.coalesced)

/**
 * Refreshes answered from the reuse window, without an upstream call.
 *
 * @since 0.1.0
 * @category metrics
 */
export const reused = counter(descriptors.reused)

/**
 * 1 while a Redis coordinator cannot reach Redis and coordinates within this process; 0 otherwise.
 *
 * @since 0.1.0
 * @category metrics
 */
export const coordinationDegraded = gauge(descriptors.coordinationDegraded)

/**
 * Refreshes a Redis coordinator ran locally because Redis failed or was too slow mid-way.
 *
 * @since 0.1.0
 * @category metrics
 */
export const coordinationFallbacks = counter(descriptors.coordinationFallbacks)

/**
 * Waiters that took a refresh over after its holder's lease lapsed (the holder died or lost Redis).
 *
 * @since 0.1.0
 * @category metrics
 */
export const coordinationTakeovers = counter(descriptors.coordinationTakeovers)

/**
 * Scripted and probabilistic fault injection for the refresh endpoint: scripted faults (count-bound),
 * outages (time-bound) and rates, decoded from untrusted JSON with Schema.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * When a fault strikes: `before` the refresh is processed (the token stays unspent), or `after` it
 * (the token is spent and rotated, then the response is lost or fails). Default `before`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Phase = Schema.Literal("before", "after")

/**
 * What {@link Phase} decodes to.
 *
 * @since 0.1.0
 * @category models
 */
export type Phase = typeof Phase.Type

const phase = Schema.optionalWith(Phase, { exact: true })
const HttpStatus = Schema.Int.pipe(Schema.between(200, 599))

/**
 * Answer with `status` and a JSON error body; `retryAfter` (seconds) adds a `Retry-After` header.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StatusFault = Schema.Struct({
  type: Schema.Literal("status"),
  status: HttpStatus,
  retryAfter: Schema.optionalWith(Schema.NonNegativeInt, { exact: true }),
  phase
})

/**
 * Never answer: the socket stays open until the client gives up or the sandbox stops.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HangFault = Schema.Struct({ type: Schema.Literal("hang"), phase })

/**
 * Destroy the socket (TCP reset) without a response.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResetFault = Schema.Struct({ type: Schema.Literal("reset"), phase })

/**
 * Answer 200 `application/json` with a body off the spec; default {@link malformedBodies}[0].
 *
 * @since 0.1.0
 * @category schemas
 */
export const MalformedFault = Schema.Struct({
  type: Schema.Literal("malformed"),
  body: Schema.optionalWith(Schema.String, { exact: true }),
  phase
})

/**
 * Wait `ms` milliseconds, then carry on as if nothing happened.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LatencyFault = Schema.Struct({
  type: Schema.Literal("latency"),
  ms: Schema.NonNegativeInt,
  phase
})

/**
 * One scripted fault for the refresh endpoint.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fault = Schema.Union(StatusFault, HangFault, ResetFault, MalformedFault, LatencyFault)

/**
 * What {@link Fault} decodes to.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault = typeof Fault.Type

/**
 * DDN down for a while: every refresh request gets `fault` (e.g. `{type: "status", status: 503}` or
 * `{type: "hang"}`) for `ms` milliseconds from when the outage starts, or until it is ended when `ms`
 * is absent. An outage takes precedence over scripted faults and rates.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Outage = Schema.Struct({
  fault: Fault,
  ms: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { exact: true })
})

/**
 * What {@link Outage} decodes to.
 *
 * @since 0.1.0
 * @category models
 */
export type Outage = typeof Outage.Type

const Rate = Schema.Number.pipe(Schema.between(0, 1))
const optionalRate = Schema.optionalWith(Rate, { exact: true })

/**
 * A latency drawn uniformly from `min` to `max` milliseconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LatencyRange = Schema.Struct({ min: Schema.NonNegativeInt, max: Schema.NonNegativeInt }).pipe(
  Schema.filter((range) => range.min <= range.max || "latencyMs.min must not exceed latencyMs.max")
)

const RateFields = Schema.Struct({
  latencyMs: Schema.optionalWith(Schema.Union(Schema.NonNegativeInt, LatencyRange), { exact: true }),
  statusRates: Schema.optionalWith(
    Schema.Record({ key: Schema.String.pipe(Schema.pattern(/^[2-5]\d\d$/)), value: Rate }),
    { exact: true }
  ),
  rateLimitRate: optionalRate,
  retryAfterSeconds: Schema.optionalWith(Schema.NonNegativeInt, { exact: true }),
  hangRate: optionalRate,
  resetRate: optionalRate,
  malformedRate: optionalRate,
  afterPhaseRate: optionalRate,
  seed: Schema.optionalWith(Schema.Int, { exact: true })
})

/**
 * The probability that some fault strikes a request under these rates.
 *
 * @since 0.1.0
 * @category utils
 */
export const totalRate = (rates: typeof RateFields.Type): number =>
  (rates.rateLimitRate ?? 0) +
  (rates.hangRate ?? 0) +
  (rates.resetRate ?? 0) +
  (rates.malformedRate ?? 0) +
  Object.values(rates.statusRates ?? {}).reduce((sum, rate) => sum + rate, 0)

/**
 * Probabilistic faults for soaks and demos, drawn per refresh request. Each request waits `latencyMs`
 * (a number, or uniform in `{min, max}`), then at most one fault strikes: `statusRates` (status →
 * probability), `rateLimitRate` (429 with `Retry-After: retryAfterSeconds`, default 1), `hangRate`,
 * `resetRate`, `malformedRate`. The rates must add up to at most 1. A struck fault lands after the
 * refresh was processed with probability `afterPhaseRate` (default 0). `seed` makes the draws
 * repeatable. Everything defaults to off.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FaultRates = RateFields.pipe(
  Schema.filter((rates) => totalRate(rates) <= 1 + 1e-9 || "the fault rates must add up to at most 1")
)

/**
 * What {@link FaultRates} decodes to.
 *
 * @since 0.1.0
 * @category models
 */
export type FaultRates = typeof FaultRates.Type

/**
 * The bodies a malformed fault sends: truncated JSON, HTML, snake_case fields, wrong types, empty.
 *
 * @since 0.1.0
 * @category constants
 */
export const malformedBodies: ReadonlyArray<string> = [
  '{"accessToken":"eyJhbGciOiJIUzI1NiJ9.',
  "<html><body><h1>502 Bad Gateway</h1></body></html>",
  '{"access_token":"sandbox","refresh_token":"sandbox","expires_in":3600}',
  '{"accessToken":null,"refreshToken":42,"expiresIn":"3600","tokenType":"Bearer"}',
  ""
]

/**
 * What to do to one refresh request: wait `latencyMs` first, then apply `fault` if any.
 *
 * @since 0.1.0
 * @category models
 */
export interface Draw {
  readonly latencyMs: number
  readonly fault: Fault | undefined
}

/**
 * The draw of a request that no fault touches; compare by identity for the fast path.
 *
 * @since 0.1.0
 * @category constants
 */
export const none: Draw = { latencyMs: 0, fault: undefined }

/**
 * How many faults struck so far, by kind; `status` is keyed by status code.
 *
 * @since 0.1.0
 * @category models
 */
export interface Injected {
  readonly latency: number
  readonly hang: number
  readonly reset: number
  readonly malformed: number
  readonly status: Readonly<Record<string, number>>
}

/**
 * An outage under way, from {@link Faults.outage}.
 *
 * @since 0.1.0
 * @category models
 */
export interface OutageState {
  readonly fault: Fault
  /** Milliseconds until it ends by itself; `undefined` when it lasts until ended. */
  readonly remainingMs: number | undefined
}

/**
 * Fault injection for the refresh endpoint: an outage (time-bound) takes precedence over a scripted
 * queue (count-bound), which takes precedence over rates.
 *
 * @since 0.1.0
 * @category models
 */
export interface Faults {
  /** Queues `fault` for the next `times` refresh requests (default 1), after those already queued. */
  readonly inject: (fault: Fault, times?: number) => void
  /** Replaces the probabilistic rates (and restarts the generator from `seed`). */
  readonly setRates: (rates: FaultRates) => void
  /** Starts an outage (replacing one under way): every request gets its fault until it ends. */
  readonly startOutage: (outage: Outage) => void
  /** Ends the outage under way, if any. Requests already hanging stay hung. */
  readonly endOutage: () => void
  /** The outage under way, if any. */
  readonly outage: () => OutageState | undefined
  /** Clears the outage, the queue and the rates. The `injected` counts are kept. */
  readonly reset: () => void
  /** How many scripted faults are still queued. */
  readonly pending: () => number
  /** Decides the fate of one refresh request; used by the server. */
  readonly draw: () => Draw
  /** Counts of the faults drawn so far. */
  readonly injected: () => Injected
}

/**
 * A small, fast, seedable generator (mulberry32) returning numbers in [0, 1).
 *
 * @since 0.1.0
 * @category utils
 */
export const prng = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const formatError = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map(({ path, message }) => (path.length > 0 ? `${path.join(".")}: ${message}` : message))
    .join("; ")

const strict = { onExcessProperty: "error" } as const

/**
 * Decodes an untrusted value (e.g. a JSON body) as a {@link Fault}, or explains why not. Unknown fields are errors.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeFault = (u: unknown): Either.Either<Fault, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(Fault, strict)(u), formatError)

/**
 * Decodes an untrusted value as an {@link Outage}, or explains why not. Unknown fields are errors.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeOutage = (u: unknown): Either.Either<Outage, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(Outage, strict)(u), formatError)

/**
 * Decodes an untrusted value as {@link FaultRates}, or explains why not. Unknown fields are errors.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeRates = (u: unknown): Either.Either<FaultRates, string> =>
  Either.mapLeft(Schema.decodeUnknownEither(FaultRates, strict)(u), formatError)

const orThrow = <A>(either: Either.Either<A, string>): A => {
  if (Either.isLeft(either)) throw new RangeError(either.left)
  return either.right
}

interface Compiled {
  readonly random: () => number
  readonly latency: FaultRates["latencyMs"]
  readonly afterPhaseRate: number
  readonly thresholds: ReadonlyArray<readonly [number, Fault]>
}

const compile = (rates: FaultRates): Compiled | undefined => {
  const entries: Array<readonly [number, Fault]> = []
  const add = (rate: number | undefined, fault: Fault) => {
    if (rate !== undefined && rate > 0) entries.push([rate, fault])
  }
  add(rates.resetRate, { type: "reset" })
  add(rates.hangRate, { type: "hang" })
  add(rates.rateLimitRate, { type: "status", status: 429, retryAfter: rates.retryAfterSeconds ?? 1 })
  for (const [status, rate] of Object.entries(rates.statusRates ?? {})) add(rate, { type: "status", status: +status })
  add(rates.malformedRate, { type: "malformed" })
  if (entries.length === 0 && !rates.latencyMs) return undefined
  const thresholds: Array<readonly [number, Fault]> = []
  let cumulative = 0
  for (const [rate, fault] of entries) {
    cumulative += rate
    thresholds.push([cumulative, fault])
  }
  return {
    random: prng(rates.seed ?? Math.floor(Math.random() * 2 ** 32)),
    latency: rates.latencyMs,
    afterPhaseRate: rates.afterPhaseRate ?? 0,
    thresholds
  }
}

/**
 * Makes a fault injector with the given rates (default: none); `now` times outages (default `Date.now`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (rates: FaultRates = {}, now: () => number = Date.now): Faults => {
  let compiled = compile(orThrow(decodeRates(rates)))
  let queue: Array<{ readonly fault: Fault; remaining: number }> = []
  let outage: { readonly draw: Draw; readonly until: number } | undefined
  const counts = { latency: 0, hang: 0, reset: 0, malformed: 0 }
  const statusCounts: Record<string, number> = {}

  const count = (draw: Draw): Draw => {
    if (draw.latencyMs > 0) counts.latency += 1
    const fault = draw.fault
    if (fault === undefined) return draw
    if (fault.type === "status") statusCounts[fault.status] = (statusCounts[fault.status] ?? 0) + 1
    else counts[fault.type] += 1
    return draw
  }

  const drawScripted = (): Draw => {
    const head = queue[0]!
    head.remaining -= 1
    if (head.remaining === 0) queue.shift()
    return { latencyMs: 0, fault: head.fault }
  }

  const drawRates = ({ random, latency, afterPhaseRate, thresholds }: Compiled): Draw => {
    const latencyMs =
      latency === undefined
        ? 0
        : typeof latency === "number"
          ? latency
          : latency.min + Math.floor(random() * (latency.max - latency.min + 1))
    const u = random()
    let fault = thresholds.find(([threshold]) => u < threshold)?.[1]
    if (fault?.type === "malformed") {
      fault = { type: "malformed", body: malformedBodies[Math.floor(random() * malformedBodies.length)]! }
    }
    if (fault !== undefined && afterPhaseRate > 0 && random() < afterPhaseRate) fault = { ...fault, phase: "after" }
    return fault === undefined && latencyMs === 0 ? none : { latencyMs, fault }
  }

  return {
    inject: (fault, times = 1) => {
      if (!Number.isSafeInteger(times) || times < 1)
        throw new RangeError("Faults.inject: times must be a positive integer")
      queue.push({ fault: orThrow(decodeFault(fault)), remaining: times })
    },
    setRates: (next) => {
      compiled = compile(orThrow(decodeRates(next)))
    },
    startOutage: (next) => {
      const { fault, ms } = orThrow(decodeOutage(next))
      outage = { draw: { latencyMs: 0, fault }, until: ms === undefined ? Infinity : now() + ms }
    },
    endOutage: () => {
      outage = undefined
    },
    outage: () => {
      if (outage === undefined) return undefined
      const left = outage.until - now()
      if (left <= 0) {
        outage = undefined
        return undefined
      }
      return { fault: outage.draw.fault!, remainingMs: left === Infinity ? undefined : left }
    },
    reset: () => {
      queue = []
      compiled = undefined
      outage = undefined
    },
    pending: () => queue.reduce((sum, entry) => sum + entry.remaining, 0),
    draw: () => {
      if (outage !== undefined) {
        if (now() < outage.until) return count(outage.draw)
        outage = undefined
      }
      if (queue.length > 0) return count(drawScripted())
      if (compiled === undefined) return none
      const draw = drawRates(compiled)
      return draw === none ? none : count(draw)
    },
    injected: () => ({ ...counts, status: { ...statusCounts } })
  }
}

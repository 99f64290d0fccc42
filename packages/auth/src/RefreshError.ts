/**
 * Everything a refresh can fail with, as one tagged union. Every error is a `Schema.TaggedError`
 * (serialisable, `yield*`-able) whose `message` describes the failure without ever containing a
 * token: fields hold statuses, reasons and durations only.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * The upstream rejected the refresh token as malformed or unknown (HTTP 400). Not retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class RefreshTokenInvalid extends Schema.TaggedError<RefreshTokenInvalid>()("RefreshTokenInvalid", {}) {
  override get message(): string {
    return "DDN rejected the refresh token as invalid (HTTP 400)"
  }
}

/**
 * The upstream rejected the refresh token as expired, revoked or already used (HTTP 401). Not retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class RefreshTokenExpired extends Schema.TaggedError<RefreshTokenExpired>()("RefreshTokenExpired", {}) {
  override get message(): string {
    return "DDN rejected the refresh token as expired or invalid (HTTP 401)"
  }
}

/**
 * The upstream kept answering 429 until the attempt budget or the deadline ran out, or asked for a
 * wait (`Retry-After`) that does not fit the deadline. `retryAfter` is the upstream's last
 * `Retry-After`, or 1 second when it sent none.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  retryAfter: Schema.Duration
}) {
  override get message(): string {
    return `DDN rate-limited the refresh; retry after ${Math.ceil(Duration.toSeconds(this.retryAfter))} s`
  }
}

/**
 * Why the upstream counts as unavailable: what the last attempt met (`Transport`, `Timeout`,
 * `Status`, `Deadline`), or why this client refused to call at all: the circuit breaker is open
 * after many transient failures (`CircuitOpen`), or too many calls are in flight already (`InFlightLimit`).
 *
 * @since 0.1.0
 * @category errors
 */
export const UnavailableReason = Schema.Literal(
  "Transport",
  "Timeout",
  "Status",
  "Deadline",
  "CircuitOpen",
  "InFlightLimit"
)
/**
 * @see UnavailableReason
 *
 * @since 0.1.0
 * @category errors
 */
export type UnavailableReason = typeof UnavailableReason.Type

/** What the last attempt met, as an `UpstreamUnavailable` message says it (a status is shown as is). */
const lastAttemptMet: Record<"Transport" | "Timeout" | "Deadline", string> = {
  Transport: "connection failed",
  Timeout: "attempt timed out",
  Deadline: "deadline exceeded"
}

/**
 * The upstream could not be reached or kept failing: connection errors, per-attempt timeouts,
 * 408/5xx after every allowed attempt, or the overall deadline; or the client refused to call it
 * (its circuit breaker is open, or its calls in flight are at their limit). Safe to retry later.
 *
 * @since 0.1.0
 * @category errors
 */
export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>()("UpstreamUnavailable", {
  reason: UnavailableReason,
  attempts: Schema.Number,
  status: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    if (this.reason === "CircuitOpen") return "DDN is unavailable: calls are paused after repeated failures"
    if (this.reason === "InFlightLimit") return "DDN is unavailable: too many calls are in flight"
    const last = this.reason === "Status" ? `HTTP ${this.status}` : lastAttemptMet[this.reason]
    return `DDN is unavailable after ${this.attempts} attempt(s): ${last}`
  }
}

/**
 * The upstream answered 2xx with a body that is not the documented shape (not JSON, missing or
 * mistyped fields). `issues` lists the offending field paths, never their values.
 *
 * @since 0.1.0
 * @category errors
 */
export class UpstreamBadResponse extends Schema.TaggedError<UpstreamBadResponse>()("UpstreamBadResponse", {
  status: Schema.Number,
  issues: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `DDN answered HTTP ${this.status} with an off-spec body (${this.issues.join(", ")})`
  }
}

/**
 * Why a refresh token was refused before any upstream call.
 *
 * @since 0.1.0
 * @category errors
 */
export const InvalidInputReason = Schema.Literal("Empty", "TooLong", "ControlCharacters")
/**
 * @see InvalidInputReason
 *
 * @since 0.1.0
 * @category errors
 */
export type InvalidInputReason = typeof InvalidInputReason.Type

const invalidInputMessages: Record<InvalidInputReason, string> = {
  Empty: "The refresh token is empty",
  TooLong: "The refresh token is longer than 8 KiB",
  ControlCharacters: "The refresh token contains control characters"
}

/**
 * The refresh token was refused locally, with no upstream call: empty, over 8 KiB, or with control characters.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  reason: InvalidInputReason
}) {
  override get message(): string {
    return invalidInputMessages[this.reason]
  }
}

/**
 * Every way a refresh can fail.
 *
 * @since 0.1.0
 * @category errors
 */
export type RefreshError =
  | RefreshTokenInvalid
  | RefreshTokenExpired
  | RateLimited
  | UpstreamUnavailable
  | UpstreamBadResponse
  | InvalidInput

/**
 * The schema of the `RefreshError` union, for encoding errors across processes.
 *
 * @since 0.1.0
 * @category errors
 */
export const RefreshError = Schema.Union(
  RefreshTokenInvalid,
  RefreshTokenExpired,
  RateLimited,
  UpstreamUnavailable,
  UpstreamBadResponse,
  InvalidInput
)

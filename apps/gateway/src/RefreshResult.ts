/**
 * What a refresh becomes in GraphQL: the `Exit` of `RefreshCoordinator.coordinate` mapped to a
 * `RefreshTokenResult` value (expected outcomes are data) or a `GraphQLError` with `extensions.code`
 * (system failures), with the outcome logs and metrics count it under. Messages are fixed texts;
 * none carries a token or upstream detail.
 *
 * @since 0.1.0
 */
import type { RefreshCoordinator, RefreshError, TokenGrant } from "@ddn/auth"
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Redacted from "effect/Redacted"
import type { GraphQLError } from "graphql"
import { createGraphQLError } from "graphql-yoga"
import * as NoEcho from "./NoEcho.js"

/**
 * How a refresh ended, as counted in metrics and request logs: a pair from DDN (`success`), from
 * the reuse window (`reused`) or from a call of the same token already in flight (`coalesced`);
 * DDN's answers (`invalid` 400, `expired` 401, `upstream_rate_limited` 429 past the deadline,
 * `unavailable`, `bad_response`); refused by the gateway before any call (`bad_input`,
 * `rate_limited` by the per-client limit); the client went away first (`aborted`); a bug (`internal`).
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = (typeof outcomes)[number]

/**
 * Every {@link Outcome}, for pre-declared metric series.
 *
 * @since 0.1.0
 * @category constants
 */
export const outcomes = [
  "success",
  "reused",
  "coalesced",
  "invalid",
  "expired",
  "rate_limited",
  "upstream_rate_limited",
  "unavailable",
  "bad_response",
  "bad_input",
  "aborted",
  "internal"
] as const

/**
 * The `extensions.code` values of system failures.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorCode =
  | "BAD_USER_INPUT"
  | "UPSTREAM_UNAVAILABLE"
  | "RATE_LIMITED"
  | "UPSTREAM_BAD_RESPONSE"
  | "INTERNAL_SERVER_ERROR"

/**
 * The GraphQL `TokenPair`, tokens in clear: this is the boundary where they leave `Redacted`.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenPair {
  readonly __typename: "TokenPair"
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
  readonly tokenType: string
  readonly expiresAt: Date
}

/**
 * The GraphQL `RefreshTokenRejected`: DDN turned the token down (400 → `INVALID`, 401 → `EXPIRED`).
 *
 * @since 0.1.0
 * @category models
 */
export interface RefreshTokenRejected {
  readonly __typename: "RefreshTokenRejected"
  readonly reason: "INVALID" | "EXPIRED"
  readonly message: string
}

/**
 * A refresh's GraphQL value or error, with its outcome.
 *
 * @since 0.1.0
 * @category models
 */
export type Resolution =
  | { readonly outcome: Outcome; readonly value: TokenPair | RefreshTokenRejected }
  | { readonly outcome: Outcome; readonly error: GraphQLError }

/**
 * The fixed messages, by outcome.
 *
 * @since 0.1.0
 * @category constants
 */
export const messages = {
  invalid: "The refresh token is invalid. Sign in again.",
  expired: "The refresh token has expired, was revoked or was already used. Sign in again.",
  unavailable: "The token service is unavailable. Retry later.",
  badResponse: "The token service answered with an unexpected response.",
  internal: "Internal server error"
} as const

const systemError = (message: string, code: ErrorCode, extra?: Readonly<Record<string, unknown>>) =>
  NoEcho.trust(createGraphQLError(message, { extensions: { code, ...extra } }))

/**
 * The masked error of every unexpected failure: no detail, no stack.
 *
 * @since 0.1.0
 * @category errors
 */
export const internalError = (): GraphQLError => systemError(messages.internal, "INTERNAL_SERVER_ERROR")

const outcomeOfSource: Readonly<Record<RefreshCoordinator.Source, Outcome>> = {
  upstream: "success",
  reused: "reused",
  coalesced: "coalesced"
}

/**
 * The token pair of a grant; `source` says where the coordinator got it (default `upstream`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromGrant = (
  grant: TokenGrant.TokenGrant,
  source: RefreshCoordinator.Source = "upstream"
): Resolution => ({
  outcome: outcomeOfSource[source],
  value: {
    __typename: "TokenPair",
    accessToken: Redacted.value(grant.accessToken),
    refreshToken: Redacted.value(grant.refreshToken),
    expiresIn: grant.expiresIn,
    tokenType: grant.tokenType,
    expiresAt: DateTime.toDateUtc(grant.expiresAt)
  }
})

/**
 * The data or error of a typed refresh failure.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromError = (error: RefreshError.RefreshError): Resolution => {
  switch (error._tag) {
    case "RefreshTokenInvalid":
      return {
        outcome: "invalid",
        value: { __typename: "RefreshTokenRejected", reason: "INVALID", message: messages.invalid }
      }
    case "RefreshTokenExpired":
      return {
        outcome: "expired",
        value: { __typename: "RefreshTokenRejected", reason: "EXPIRED", message: messages.expired }
      }
    case "InvalidInput":
      return { outcome: "bad_input", error: systemError(error.message, "BAD_USER_INPUT") }
    case "UpstreamUnavailable":
      return {
        outcome: "unavailable",
        error: systemError(messages.unavailable, "UPSTREAM_UNAVAILABLE", { retryable: true })
      }
    case "RateLimited": {
      const retryAfterSeconds = Math.ceil(Duration.toSeconds(error.retryAfter))
      return {
        outcome: "upstream_rate_limited",
        error: systemError(
          `The token service is rate-limiting refreshes. Retry after ${retryAfterSeconds} s.`,
          "RATE_LIMITED",
          { retryAfterSeconds }
        )
      }
    }
    case "UpstreamBadResponse":
      return { outcome: "bad_response", error: systemError(messages.badResponse, "UPSTREAM_BAD_RESPONSE") }
  }
}

/**
 * The resolution of a refresh's `Exit` (of `coordinate`, or of a plain `refresh`). Defects and
 * interruptions become the masked internal error, counted `aborted` when `aborted` says the client
 * went away (its request's signal fired) and `internal` otherwise.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromExit = (
  exit: Exit.Exit<RefreshCoordinator.Coordinated | TokenGrant.TokenGrant, RefreshError.RefreshError>,
  aborted = false
): Resolution => {
  if (Exit.isSuccess(exit)) {
    return "source" in exit.value ? fromGrant(exit.value.grant, exit.value.source) : fromGrant(exit.value)
  }
  const failure = Cause.failureOrCause(exit.cause)
  if (Either.isLeft(failure)) return fromError(failure.left)
  return { outcome: aborted && Cause.isInterruptedOnly(exit.cause) ? "aborted" : "internal", error: internalError() }
}

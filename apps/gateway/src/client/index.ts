/**
 * `@ddn/gateway/client`: what a GraphQL client needs to call the gateway, typed, with nothing of the
 * server in it. `RefreshDocument` is the `refreshToken` mutation as a `TypedDocumentNode` (generated
 * by graphql-codegen from `schema.graphql`), accepted as is by Apollo Client, urql and
 * graphql-request, or sent with `fetch` as `print(RefreshDocument)`. The error types say which
 * `extensions` come with which `code`.
 *
 * @since 0.1.0
 */
import type { RefreshMutation } from "./generated.js"

/**
 * What the mutation answers, as the typed document's result.
 *
 * @since 0.1.0
 * @category models
 */
/**
 * The mutation's variables: the refresh token to trade.
 *
 * @since 0.1.0
 * @category models
 */
/**
 * Why DDN turned a refresh token down: `INVALID` (its 400) or `EXPIRED` (its 401).
 *
 * @since 0.1.0
 * @category models
 */
export type { RefreshMutation, RefreshMutationVariables, RefreshTokenRejectedReason } from "./generated.js"
/**
 * The `refreshToken` mutation (`src/client/Refresh.graphql`) as a `TypedDocumentNode`: every field of
 * both results.
 *
 * @since 0.1.0
 * @category documents
 */
export { RefreshDocument } from "./generated.js"

/**
 * The mutation's result: a new pair, or DDN's refusal of the token (the user signs in again).
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshTokenResult = RefreshMutation["refreshToken"]

/**
 * A new pair; the refresh token sent is spent, so store `refreshToken` before using `accessToken`.
 *
 * @since 0.1.0
 * @category models
 */
export type TokenPair = Extract<RefreshTokenResult, { readonly __typename: "TokenPair" }>

/**
 * DDN turned the refresh token down: `INVALID` (its 400) or `EXPIRED` (its 401: expired, revoked or used).
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshTokenRejected = Extract<RefreshTokenResult, { readonly __typename: "RefreshTokenRejected" }>

/**
 * Codes of requests refused before any refresh: a client bug, not worth retrying as is.
 *
 * @since 0.1.0
 * @category models
 */
export type RequestErrorCode =
  | "BAD_REQUEST"
  | "GRAPHQL_PARSE_FAILED"
  | "GRAPHQL_VALIDATION_FAILED"
  | "PAYLOAD_TOO_LARGE"

/**
 * The `extensions` of an error in the response, by `code`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorExtensions =
  /** The token is empty, over 8 KiB or has control characters; DDN was not called. */
  | { readonly code: "BAD_USER_INPUT" }
  /** DDN is unreachable, timed out or kept failing: retry later with the same refresh token. */
  | { readonly code: "UPSTREAM_UNAVAILABLE"; readonly retryable: true }
  /** DDN, or the gateway's per-client limit, refuses for now: retry with the same token after `retryAfterSeconds`. */
  | { readonly code: "RATE_LIMITED"; readonly retryAfterSeconds: number }
  /** DDN answered something off its spec. */
  | { readonly code: "UPSTREAM_BAD_RESPONSE" }
  /** Anything else; the message has no detail. */
  | { readonly code: "INTERNAL_SERVER_ERROR" }
  | { readonly code: RequestErrorCode }

/**
 * The codes of {@link ErrorExtensions}.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorCode = ErrorExtensions["code"]

/**
 * One error of a response. Messages are fixed texts, never a token.
 *
 * @since 0.1.0
 * @category models
 */
export interface GatewayError {
  readonly message: string
  readonly extensions?: ErrorExtensions
}

/**
 * A `/graphql` response body (GraphQL over HTTP): `data`, or `errors` with `data: null`. Parse the
 * body whatever the HTTP status: refusals come as 4xx with this shape (e.g. 429 `RATE_LIMITED`).
 *
 * @since 0.1.0
 * @category models
 */
export interface GatewayResponse<TData = RefreshMutation> {
  readonly data?: TData | null
  readonly errors?: ReadonlyArray<GatewayError>
}

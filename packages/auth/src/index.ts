/**
 * `@ddn/auth`: the DDN token refresh as a typed, retrying, deadline-bound Effect, over any `HttpClient`.
 * Node.js's ready-made layers are in `@ddn/auth/node`, Redis coordination in `@ddn/auth/redis`.
 *
 * @since 0.1.0
 */
export * as AuthorizedHttpClient from "./AuthorizedHttpClient.js"
export * as CircuitBreaker from "./CircuitBreaker.js"
export * as DdnAuthClient from "./DdnAuthClient.js"
export * as EnvConfig from "./EnvConfig.js"
export * as InFlightLimit from "./InFlightLimit.js"
export * as RefreshCoordinator from "./RefreshCoordinator.js"
export * as RefreshError from "./RefreshError.js"
export * as RefreshMetrics from "./RefreshMetrics.js"
export * as TokenGrant from "./TokenGrant.js"
export * as TokenSession from "./TokenSession.js"
export * as TokenStore from "./TokenStore.js"
export * as UpstreamPause from "./UpstreamPause.js"

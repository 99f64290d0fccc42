/**
 * The per-client refresh limit (`RATE_LIMIT_PER_MINUTE`, default 60, 0 off): a token bucket per
 * client of that capacity, refilled at limit/60 per second, so a client makes at most `limit`
 * refreshes in any 60 s and gets them back gradually, never all at once on a window edge.
 *
 * Built on `@effect/experimental`'s `RateLimiter` over whichever `RateLimiterStore` the runtime
 * provides: the gateway provides {@link BoundedRateLimiterStore} (memory, bounded), or with
 * `REDIS_URL` {@link RedisRateLimiterStore}, so the limit holds across instances; nothing here changes. A store that fails lets the
 * request through (a warning at most once a minute): refreshes matter more than the limit.
 *
 * {@link plugin} is the yoga side: it counts the `refreshToken` fields of the operation about to
 * run and takes that many tokens at once, before execution; a request that does not fit is refused
 * whole (HTTP 429, `Retry-After`, `RATE_LIMITED`) and consumes nothing. Operations without
 * `refreshToken` (e.g. `{ health }`) are not limited.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import type { GraphQLError } from "graphql"
import { createGraphQLError, type Plugin } from "graphql-yoga"
import * as ClientAddress from "./ClientAddress.js"
import { refreshesIn } from "./internal/refreshCount.js"
import * as ThrottledWarning from "./internal/throttledWarning.js"
import * as NoEcho from "./NoEcho.js"
import type * as RequestLog from "./RequestLog.js"

/**
 * A refused request: the client has to wait `retryAfterSeconds` (whole seconds, at least 1).
 *
 * @since 0.1.0
 * @category errors
 */
export class ClientRateLimited extends Schema.TaggedError<ClientRateLimited>()("ClientRateLimited", {
  retryAfterSeconds: Schema.Int
}) {
  override get message(): string {
    return `Too many refreshes from this client. Retry after ${this.retryAfterSeconds} s.`
  }
}

/**
 * What the limit does.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Refreshes per client in any 60 s; 0 when the limit is off. */
  readonly perMinute: number
  /** Takes `refreshes` tokens from `client`'s bucket, all or none; fails when they are not all there. */
  readonly consume: (client: string, refreshes: number) => Effect.Effect<void, ClientRateLimited>
}

/**
 * The limit's service tag.
 *
 * @since 0.1.0
 * @category tags
 */
export class ClientRateLimit extends Context.Tag("@ddn/gateway/ClientRateLimit")<ClientRateLimit, Service>() {}

/**
 * Limit settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Refreshes per client in any 60 s; 0 turns the limit off. */
  readonly perMinute: number
}

/**
 * The window the limit is stated over.
 *
 * @since 0.1.0
 * @category constants
 */
export const window = Duration.minutes(1)

/**
 * The limit over the `RateLimiterStore` in context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, RateLimiter.RateLimiterStore> =>
  Effect.gen(function* () {
    const limiter = yield* RateLimiter.make
    const storeFailed = yield* ThrottledWarning.make("the rate limit store failed; refreshes are let through meanwhile")
    const limit = options.perMinute
    return ClientRateLimit.of({
      perMinute: limit,
      consume: (client, refreshes) =>
        limit === 0 || refreshes === 0
          ? Effect.void
          : limiter
              .consume({
                algorithm: "token-bucket",
                onExceeded: "fail",
                window,
                limit,
                key: `refresh:${client}`,
                tokens: refreshes
              })
              .pipe(
                Effect.asVoid,
                Effect.catchTag("RateLimiterError", (error) =>
                  error.reason === "Exceeded"
                    ? Effect.fail(
                        new ClientRateLimited({
                          retryAfterSeconds: Math.max(1, Math.ceil(Duration.toSeconds(error.retryAfter)))
                        })
                      )
                    : storeFailed
                )
              )
    })
  })

/**
 * The limit as a layer; it needs a `RateLimiter.RateLimiterStore` (memory, Redis, …).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<ClientRateLimit, never, RateLimiter.RateLimiterStore> =>
  Layer.effect(ClientRateLimit, make(options))

/**
 * The GraphQL error of a refused request: HTTP 429 with `Retry-After` and `Cache-Control: no-store`.
 *
 * @since 0.1.0
 * @category errors
 */
export const refusal = (refused: ClientRateLimited): GraphQLError =>
  NoEcho.trust(
    createGraphQLError(refused.message, {
      extensions: {
        code: "RATE_LIMITED",
        retryAfterSeconds: refused.retryAfterSeconds,
        http: {
          status: 429,
          headers: { "retry-after": String(refused.retryAfterSeconds), "cache-control": "no-store" }
        }
      }
    })
  )

/**
 * What the yoga plugin needs.
 *
 * @since 0.1.0
 * @category models
 */
export interface PluginOptions {
  /** `TRUST_PROXY_HOPS`: see {@link ClientAddress.of}. */
  readonly trustProxyHops: number
  /** Runs {@link Service.consume}, e.g. through the gateway's runtime. */
  readonly consume: (client: string, refreshes: number) => Promise<Exit.Exit<void, ClientRateLimited>>
  /** Called once per refused request with the refreshes it carried and the seconds since it arrived. */
  readonly onRefused?: ((refreshes: number, seconds: number) => void) | undefined
}

/** The part of the Node request the plugin reads (yoga's Node adapter puts it on the context as `req`). */
interface NodeRequest {
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

/** The rate-limit key of the request behind a yoga context. */
const clientOf = (context: { readonly req?: NodeRequest }, trustProxyHops: number): string => {
  const request = context.req
  if (request === undefined) return ClientAddress.unknownPeer
  return ClientAddress.of(request.socket?.remoteAddress, request.headers["x-forwarded-for"], trustProxyHops)
}

/**
 * The envelop plugin: in `onExecute`, refuses an operation whose refreshes do not fit the client's
 * bucket, with {@link refusal} and no execution (so no upstream call), and marks the request's log
 * line `rate_limited`. A defect in the store path lets the request through.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugin = (options: PluginOptions): Plugin => ({
  onExecute: ({ args, setResultAndStopExecution }) => {
    const refreshes = refreshesIn(args.document, args.operationName)
    if (refreshes === 0) return
    const context = args.contextValue as { readonly req?: NodeRequest; readonly requestState?: RequestLog.RequestState }
    return options.consume(clientOf(context, options.trustProxyHops), refreshes).then((exit) => {
      if (Exit.isSuccess(exit) || exit.cause._tag !== "Fail") return
      const state = context.requestState
      if (state !== undefined) state.outcome = "rate_limited"
      options.onRefused?.(refreshes, state === undefined ? 0 : (performance.now() - state.startedAt) / 1000)
      setResultAndStopExecution({ errors: [refusal(exit.cause.error)] })
    })
  }
})

/**
 * The sandbox's HTTP server: `start` serves the refresh endpoint and the `/sandbox/*` control routes
 * in this process; `make` and `layer` do the same within a `Scope`, as the `Sandbox` service.
 *
 * @since 0.1.0
 */
import { createServer } from "node:http"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as Faults from "./Faults.js"
import * as Connections from "./internal/connections.js"
import * as Control from "./internal/control.js"
import * as Counters from "./internal/counters.js"
import * as Refresh from "./internal/refresh.js"
import { healthy, reply } from "./internal/replies.js"
import * as Requests from "./internal/requests.js"
import * as Rotations from "./internal/rotations.js"
import * as Router from "./internal/router.js"
import * as Listening from "./Listening.js"
import * as RateLimit from "./RateLimit.js"
import { defaults, type SandboxOptions } from "./SandboxOptions.js"
import * as TokenAuthority from "./TokenAuthority.js"

/**
 * The largest request body the sandbox reads; more is answered with 413.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBodyBytes = Requests.maxBodyBytes

/**
 * The most sessions one `POST /sandbox/sessions?count=N` mints.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxSessionsPerRequest = Control.maxSessionsPerRequest

/**
 * How many lost rotations the sandbox remembers for {@link RotationDelivery} (oldest forgotten first).
 *
 * @since 0.1.0
 * @category constants
 */
export const lostRotationsRemembered = Rotations.lostRotationsRemembered

/**
 * What became of a refresh token's rotation, from `POST /sandbox/inspect`: `none` (not rotated),
 * `delivered` (rotated and its 200 written to the client), or `lost` (rotated, but an after-phase
 * fault struck or the client had gone, so no client ever saw the new pair).
 *
 * @since 0.1.0
 * @category models
 */
export type RotationDelivery = "none" | "delivered" | "lost"

/**
 * Counters since start; a snapshot from {@link RunningSandbox.stats}, also `GET /sandbox/stats`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  /** Requests to `POST /gateway/auth/refresh`, whatever became of them. */
  readonly refreshRequests: number
  /** Refresh tokens rotated, including those whose response an after-phase fault then lost. */
  readonly granted: number
  /** Rotations whose 200 never reached the client (after-phase fault, or the client had gone). */
  readonly rotationsLost: number
  /** Refresh tokens turned down with 401, by reason. */
  readonly rejected: Readonly<Record<TokenAuthority.RejectionReason, number>>
  /** Refresh requests answered with 400. */
  readonly invalidRequests: number
  /** Refresh requests answered with 413. */
  readonly tooLarge: number
  /** Refresh requests answered 429 by the rate limit (`rateLimitRps`); injected 429s count as faults. */
  readonly rateLimited: number
  /** TCP connections to the sandbox: `open` now, the `peak` of open ones at any moment, `total` accepted. */
  readonly connections: { readonly open: number; readonly peak: number; readonly total: number }
  /** Sessions minted through `POST /sandbox/sessions`. */
  readonly sessionsMinted: number
  /** Faults struck so far, by kind. */
  readonly faultsInjected: Faults.Injected
  /** Refresh tokens the authority remembers right now. */
  readonly refreshTokensRemembered: number
}

/**
 * A sandbox serving on `url` until `stop` is called.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningSandbox {
  /** Base URL, e.g. `http://127.0.0.1:43123`, without a trailing slash. */
  readonly url: string
  readonly port: number
  /** The token state, e.g. to `mintSession()` without HTTP. */
  readonly authority: TokenAuthority.TokenAuthority
  /** Whether a refresh token's rotation reached the client; see {@link RotationDelivery}. */
  readonly delivery: (refreshToken: string) => RotationDelivery
  /** Fault injection for the refresh endpoint (outages included). */
  readonly faults: Faults.Faults
  /** DDN's global rate limit on the refresh endpoint, changeable at run time. */
  readonly rateLimit: RateLimit.RateLimit
  readonly stats: () => Stats
  /** Closes the server and destroys every open socket, hung ones included. Idempotent. */
  readonly stop: () => Promise<void>
}

/**
 * The sandbox could not listen (e.g. the port is taken).
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxStartError extends Data.TaggedError("SandboxStartError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `The DDN sandbox could not start: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/**
 * Starts a sandbox in this process. Defaults: {@link defaults} (an ephemeral port on 127.0.0.1, token
 * lifetimes of 3600 s and 30 days, no reuse interval, no faults). Rejects with the `listen` error
 * (e.g. `EADDRINUSE`) when the port cannot be bound.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (options: Partial<SandboxOptions> = {}): Promise<RunningSandbox> => {
  const { port, host, faults: rates, rateLimitRps, ...authorityOptions }: SandboxOptions = { ...defaults, ...options }
  const authority = TokenAuthority.make(authorityOptions)
  const faults = Faults.make(rates, authorityOptions.now)
  const rateLimit = RateLimit.make(rateLimitRps, authorityOptions.now)
  const parts = { authority, faults, rateLimit, counters: Counters.make(), rotations: Rotations.make(authority) }
  const server = createServer()
  const connections = Connections.track(server)
  const stats = (): Stats => Counters.snapshot(parts, connections.counts())
  const control = Control.make(parts, stats)
  server.on(
    "request",
    Router.make({
      "/gateway/auth/refresh": { POST: Refresh.make(parts) },
      "/sandbox/whoami": { GET: control.whoami },
      "/sandbox/sessions": { POST: control.mintSessions },
      "/sandbox/inspect": { POST: control.inspect },
      "/sandbox/stats": { GET: control.stats },
      "/sandbox/faults": { POST: control.configureFaults, DELETE: control.resetFaults },
      "/sandbox/rate-limit": { POST: control.configureRateLimit },
      "/healthz": { GET: (_, res) => reply(res, healthy) }
    })
  )
  return Listening.listen(server, host, port).then(({ origin, port }) => ({
    url: origin,
    port,
    authority,
    delivery: parts.rotations.delivery,
    faults,
    rateLimit,
    stats,
    stop: connections.stop
  }))
}

/**
 * The running sandbox as an Effect service.
 *
 * @since 0.1.0
 * @category tags
 */
export class Sandbox extends Context.Tag("@ddn/sandbox/Sandbox")<Sandbox, RunningSandbox>() {}

/**
 * Starts a sandbox (see {@link start}) that stops when the scope closes; fails with
 * {@link SandboxStartError} when it cannot listen.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Partial<SandboxOptions> = {}
): Effect.Effect<RunningSandbox, SandboxStartError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => start(options), catch: (cause) => new SandboxStartError({ cause }) }),
    (sandbox) => Effect.promise(() => sandbox.stop())
  )

/**
 * A layer providing {@link Sandbox}; the server stops when the layer's scope closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Partial<SandboxOptions> = {}): Layer.Layer<Sandbox, SandboxStartError> =>
  Layer.scoped(Sandbox, make(options))

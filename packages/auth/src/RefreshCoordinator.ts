/**
 * Coordinates refreshes of the same refresh token: concurrent calls share one upstream call
 * (single-flight), and a successful grant is kept for a short reuse window and returned again if the
 * same token is resubmitted — the answer to lost responses and racing tabs that would otherwise
 * spend a single-use token twice and lose the session.
 *
 * Defaults: reuse window 10 s (`DDN_REUSE_WINDOW_MS`, 0 disables), at most 100,000 kept grants
 * (`DDN_REUSE_MAX_ENTRIES`, least recently used evicted first). Entries are keyed by an HMAC of the
 * token with a per-process secret, never by the token. Failures are never kept.
 *
 * @since 0.1.0
 */
import { createHmac, randomBytes } from "node:crypto"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { DdnAuthClient } from "./DdnAuthClient.js"
import * as EnvConfig from "./EnvConfig.js"
import * as Coordinator from "./internal/coordinator.js"
import type { RefreshError } from "./RefreshError.js"
import type { TokenGrant } from "./TokenGrant.js"

/**
 * The coordinator service: the same `refresh` as `DdnAuthClient`, coordinated.
 *
 * @since 0.1.0
 * @category tags
 */
export class RefreshCoordinator extends Context.Tag("@ddn/auth/RefreshCoordinator")<RefreshCoordinator, Service>() {}

/**
 * What the coordinator does. A shared-store implementation (several gateway instances) provides the
 * same interface.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Refreshes `refreshToken` at most once per reuse window. Callers of the same token share the
   * outcome; an upstream call, once started, runs to the end even if every caller goes away, so
   * its grant is there for the resubmission.
   */
  readonly refresh: (refreshToken: Redacted.Redacted<string>) => Effect.Effect<TokenGrant, RefreshError>
  /** `refresh`, saying how the grant was obtained: for logs and metrics that tell the cases apart. */
  readonly coordinate: (refreshToken: Redacted.Redacted<string>) => Effect.Effect<Coordinated, RefreshError>
  /** How refreshes are coordinated right now (for readiness probes). */
  readonly coordination: Effect.Effect<Coordination>
}

/**
 * How a coordinator coordinates: `memory` (this process only), `redis` (across every instance
 * sharing the Redis), or `degraded` (a Redis coordinator that cannot reach Redis and coordinates
 * within this process until it can again).
 *
 * @since 0.1.0
 * @category models
 */
export type Coordination = "memory" | "redis" | "degraded"

/**
 * How a grant was obtained: `upstream` (this caller's refresh called DDN), `coalesced` (it joined a
 * refresh of the same token already in flight) or `reused` (the reuse window answered, no call).
 *
 * @since 0.1.0
 * @category models
 */
export type Source = "upstream" | "coalesced" | "reused"

/**
 * A grant and its {@link Source}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Coordinated {
  readonly grant: TokenGrant
  readonly source: Source
}

/**
 * Coordinator settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long a successful grant is returned again for the same refresh token. Default 10 s; zero disables. */
  readonly reuseWindow?: Duration.DurationInput | undefined
  /** Most grants kept at once; the least recently used go first. Default 100,000. */
  readonly maxEntries?: number | undefined
  /** HMAC key for entry keys. Default: 32 random bytes per process. */
  readonly keySecret?: Redacted.Redacted<string | Uint8Array> | undefined
}

/**
 * The defaults of `Options`.
 *
 * @since 0.1.0
 * @category config
 */
export const defaults = { reuseWindow: Duration.seconds(10), maxEntries: 100_000 } as const

/**
 * `Options` from the environment: `DDN_REUSE_WINDOW_MS` (0–3600000, default 10000, 0 disables) and
 * `DDN_REUSE_MAX_ENTRIES` (1–10000000, default 100000). Unset variables keep their defaults; a blank
 * or bad one fails naming it.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Required<Omit<Options, "keySecret">>> = Config.all({
  reuseWindow: EnvConfig.millis("DDN_REUSE_WINDOW_MS", 0, 3_600_000).pipe(Config.withDefault(defaults.reuseWindow)),
  maxEntries: EnvConfig.integer("DDN_REUSE_MAX_ENTRIES", 1, 10_000_000).pipe(Config.withDefault(defaults.maxEntries))
})

/**
 * The in-memory coordinator, for one process. Needs `DdnAuthClient`; in-flight refreshes end with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, DdnAuthClient | Scope.Scope> =>
  Effect.gen(function* () {
    const client = yield* DdnAuthClient
    const secret = options.keySecret === undefined ? randomBytes(32) : Redacted.value(options.keySecret)
    const service = yield* Coordinator.make({
      reuseWindowMillis: Duration.toMillis(Duration.decode(options.reuseWindow ?? defaults.reuseWindow)),
      maxEntries: options.maxEntries ?? defaults.maxEntries,
      keyOf: (token) => createHmac("sha256", secret).update(token).digest("base64url"),
      refresh: (_key, token, keepLocally) =>
        client.refresh(token).pipe(
          Effect.tap(keepLocally),
          Effect.map((grant) => ({ grant, source: "upstream" as const }))
        ),
      coordination: Effect.succeed("memory")
    })
    return RefreshCoordinator.of(service)
  })

/**
 * The in-memory coordinator as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options: Options = {}): Layer.Layer<RefreshCoordinator, never, DdnAuthClient> =>
  Layer.scoped(RefreshCoordinator, make(options))

/**
 * The in-memory coordinator from a `Config` of `Options` (default: `DDN_REUSE_WINDOW_MS`, `DDN_REUSE_MAX_ENTRIES`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemoryConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<RefreshCoordinator, ConfigError.ConfigError, DdnAuthClient> =>
  Layer.scoped(RefreshCoordinator, Effect.flatMap(options, make))

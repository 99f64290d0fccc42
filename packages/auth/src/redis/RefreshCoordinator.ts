/**
 * `RefreshCoordinator` across several processes, through Redis: everything of the in-memory
 * coordinator (this namespace re-exports it), plus {@link layerRedis} / {@link layerRedisConfig}.
 *
 * - **Single-flight across instances.** Concurrent refreshes of one token, on any instances, make
 *   one upstream call: the first takes a lease on the token's key; the others wait for its outcome
 *   (woken by pub/sub, with polling as a safety net) and all get the same answer, pair or rejection.
 * - **Outcome first.** The holder writes the sealed outcome to Redis before anyone is answered.
 * - **Reuse across instances.** A resubmission within the reuse window, to any instance, gets the
 *   same pair with no upstream call, even once the instance that refreshed is gone.
 * - **Dead holders.** The holder renews its lease (default 3 s) while its call runs; when it dies the
 *   lease lapses and a waiter takes over. No waiter waits longer than the refresh deadline; the
 *   holder's own call is bounded by the client's deadline, plus at most a Redis command timeout
 *   before it (the claim) and after it (the outcome written).
 * - **Nothing readable.** Keys are HMACs of the token under the shared secret; values are
 *   AES-256-GCM under a key derived (HKDF) from the refresh token itself. Every key has a TTL.
 * - **Redis away.** Every command is bounded (default 250 ms). When Redis stops answering the
 *   coordinator says `degraded` and sets `ddn_coordination_degraded` to 1; for the failover grace
 *   (default 5 s) refreshes wait for it, then they are coordinated within this process
 *   (single-flight and reuse window in memory). When Redis is back, the grants made meanwhile and
 *   the leases of calls still running are written back, and coordination resumes by itself.
 *
 * @since 0.2.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { type DdnAuthClient, policyConfig } from "../DdnAuthClient.js"
import * as EnvConfig from "../EnvConfig.js"
import * as RedisStore from "../internal/redisCoordinationStore.js"
import * as SharedCoordinator from "../internal/sharedCoordinator.js"
import { config as memoryConfig, type Options, RefreshCoordinator, type Service } from "../RefreshCoordinator.js"
import * as RedisConnection from "./RedisConnection.js"

export * from "../RefreshCoordinator.js"

/**
 * Settings of the Redis coordinator, beyond the in-memory one's `reuseWindow` and `maxEntries`.
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisOptions extends Omit<Options, "keySecret"> {
  /**
   * The secret every instance shares (`DDN_COORDINATION_SECRET`, at least 32 characters): it keys the
   * HMAC of the key names and salts the value keys. Instances with different secrets do not coordinate.
   */
  readonly secret: Redacted.Redacted<string>
  /**
   * The longest a waiter waits for a refresh, Redis included: the refresh deadline. Default 10 s.
   * (The holder's own path is bounded by the client's deadline and the command timeout.)
   */
  readonly deadline?: Duration.DurationInput | undefined
  /**
   * How long a holder's lease lasts without renewal (renewed every third of it;
   * `DDN_COORDINATION_LEASE_MS`). Default 3 s.
   */
  readonly lease?: Duration.DurationInput | undefined
  /** How often a waiter looks for the outcome when no notification came. Default 250 ms. */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** Prefix of every key and channel. Default `ddn:coord:v1:`. */
  readonly keyPrefix?: string | undefined
  /**
   * How long, from the moment Redis stops answering, refreshes wait for it to come back before they
   * are coordinated within this process (`DDN_COORDINATION_FAILOVER_MS`). A restart or a failover
   * shorter than this costs latency and nothing else; past it, no refresh waits. Default 5 s.
   */
  readonly failoverGrace?: Duration.DurationInput | undefined
}

/**
 * The defaults of `RedisOptions`.
 *
 * @since 0.2.0
 * @category config
 */
export const redisDefaults = SharedCoordinator.defaults

/**
 * The shortest `DDN_COORDINATION_SECRET` accepted.
 *
 * @since 0.2.0
 * @category constants
 */
export const minSecretLength = 32

/**
 * `DDN_COORDINATION_FAILOVER_MS`: the {@link RedisOptions.failoverGrace}, 0–60000, default 5000.
 *
 * @since 0.2.0
 * @category config
 */
export const failoverGraceConfig: Config.Config<Duration.Duration> = EnvConfig.millis(
  "DDN_COORDINATION_FAILOVER_MS",
  0,
  60_000
).pipe(Config.withDefault(redisDefaults.failoverGrace))

/**
 * `DDN_COORDINATION_LEASE_MS`: the {@link RedisOptions.lease}, 300–60000, default 3000. Longer
 * tolerates longer pauses of a holder (a stop-the-world pause, a frozen VM) before its call is taken
 * over; shorter takes a dead holder's call over sooner.
 *
 * @since 0.2.0
 * @category config
 */
export const leaseConfig: Config.Config<Duration.Duration> = EnvConfig.millis(
  "DDN_COORDINATION_LEASE_MS",
  300,
  60_000
).pipe(Config.withDefault(redisDefaults.lease))

/**
 * Where an instance finds Redis and the secret it shares with the others.
 *
 * @since 0.2.0
 * @category models
 */
export interface RedisSettings {
  readonly url: Redacted.Redacted<URL>
  readonly secret: Redacted.Redacted<string>
  readonly failoverGrace: Duration.Duration
  readonly lease: Duration.Duration
}

/**
 * `REDIS_URL` (unset: `None`, coordinate in memory) and `DDN_COORDINATION_SECRET`, which is then
 * required: without it the config fails naming it. Neither value is ever echoed.
 *
 * @since 0.2.0
 * @category config
 */
export const redisSettingsConfig: Config.Config<Option.Option<RedisSettings>> = Config.all({
  url: Config.option(RedisConnection.urlConfig),
  secret: Config.option(EnvConfig.secret("DDN_COORDINATION_SECRET", minSecretLength)),
  failoverGrace: failoverGraceConfig,
  lease: leaseConfig
}).pipe(
  Config.mapOrFail(({ failoverGrace, lease, secret, url }) =>
    Option.isNone(url)
      ? Either.right(Option.none())
      : Option.isNone(secret)
        ? Either.left(
            ConfigError.MissingData(
              ["DDN_COORDINATION_SECRET"],
              `required when REDIS_URL is set: at least ${minSecretLength} characters, the same on every instance`
            )
          )
        : Either.right(Option.some({ url: url.value, secret: secret.value, failoverGrace, lease }))
  )
)

/**
 * `RedisOptions` from the environment: `DDN_COORDINATION_SECRET` (required),
 * `DDN_COORDINATION_FAILOVER_MS`, `DDN_COORDINATION_LEASE_MS`, the reuse window of
 * `RefreshCoordinator.config` and the deadline of `DdnAuthClient.policyConfig`.
 *
 * @since 0.2.0
 * @category config
 */
export const redisConfig: Config.Config<RedisOptions> = Config.all({
  secret: EnvConfig.secret("DDN_COORDINATION_SECRET", minSecretLength),
  failoverGrace: failoverGraceConfig,
  lease: leaseConfig,
  coordinator: memoryConfig,
  policy: policyConfig
}).pipe(
  Config.map(({ coordinator, failoverGrace, lease, policy, secret }) => ({
    ...coordinator,
    secret,
    failoverGrace,
    lease,
    deadline: policy.deadline
  }))
)

/**
 * The Redis coordinator over a `RedisConnection`; needs `DdnAuthClient`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeRedis = (
  options: RedisOptions
): Effect.Effect<Service, never, DdnAuthClient | RedisConnection.RedisConnection | Scope.Scope> =>
  Effect.gen(function* () {
    const connection = yield* RedisConnection.RedisConnection
    const store = yield* RedisStore.make(connection, options.keyPrefix ?? redisDefaults.keyPrefix)
    return yield* SharedCoordinator.make(options, store)
  })

/**
 * The Redis coordinator as a layer.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRedis = (
  options: RedisOptions
): Layer.Layer<RefreshCoordinator, never, DdnAuthClient | RedisConnection.RedisConnection> =>
  Layer.scoped(RefreshCoordinator, makeRedis(options))

/**
 * The Redis coordinator and its connection from the environment: `REDIS_URL`,
 * `DDN_COORDINATION_SECRET` and the `DDN_*` settings of {@link redisConfig}.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerRedisConfig = (
  options: Config.Config<RedisOptions> = redisConfig
): Layer.Layer<RefreshCoordinator, ConfigError.ConfigError, DdnAuthClient> =>
  Layer.scoped(RefreshCoordinator, Effect.flatMap(options, makeRedis)).pipe(
    Layer.provide(RedisConnection.layerConfig())
  )

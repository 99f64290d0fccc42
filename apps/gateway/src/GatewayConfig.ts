/**
 * The gateway's settings, read from the environment with Effect `Config`: the gateway's own
 * variables here, the core's (`DDN_*`, `REDIS_URL`) through the core's `Config`s
 * (`DdnAuthClient.apiUrlConfig`, `DdnAuthClient.policyConfig`, `RefreshCoordinator.config`,
 * `RefreshCoordinator.redisSettingsConfig`), so each variable is parsed in exactly one place, and
 * every one the same way (`EnvConfig.parsed`: trimmed, blank refused, its name on every error).
 * Unset variables keep their defaults; a blank or bad value fails with a `ConfigError` that
 * {@link formatError} turns into one line naming the variable.
 *
 * @since 0.1.0
 */
import { DdnAuthClient, EnvConfig, RefreshCoordinator } from "@ddn/auth"
import { RefreshCoordinator as SharedCoordinator } from "@ddn/auth/redis"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Tracing from "./Tracing.js"

/** Everything the gateway can be told. */
export interface GatewayConfig {
  /** `PORT`: TCP port, 0 picks a free one. Default 4000. */
  readonly port: number
  /** `HOST`: interface to listen on. Default `0.0.0.0`. */
  readonly host: string
  /** `DDN_API_URL`: base URL of the DDN API; none runs the embedded sandbox (refused in production). */
  readonly ddnApiUrl: Option.Option<URL>
  /**
   * `DDN_REFRESH_TIMEOUT_MS`, `DDN_ATTEMPT_TIMEOUT_MS`, `DDN_MAX_ATTEMPTS`, `DDN_MAX_IN_FLIGHT`: the
   * core's deadline, attempts and bound on upstream calls in flight (the connection pool's size too).
   */
  readonly upstream: DdnAuthClient.Policy
  /** `DDN_REUSE_WINDOW_MS`, `DDN_REUSE_MAX_ENTRIES`: the core's reuse window and its bound. */
  readonly coordinator: RefreshCoordinator.Options
  /**
   * `REDIS_URL` with `DDN_COORDINATION_SECRET`: coordinate refreshes with every instance sharing that
   * Redis. None: in this process's memory only.
   */
  readonly coordination: Option.Option<SharedCoordinator.RedisSettings>
  /** `LOG_LEVEL`: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `none`. Default `info`. */
  readonly logLevel: LogLevel.LogLevel
  /** `CORS_ORIGINS`: comma-separated origins allowed to call `/graphql` from a browser; empty sends no CORS headers. */
  readonly corsOrigins: ReadonlyArray<string>
  /** `SHUTDOWN_GRACE_MS`: how long SIGTERM waits for in-flight requests before closing connections. Default 10 s. */
  readonly shutdownGrace: Duration.Duration
  /**
   * `KEEP_ALIVE_TIMEOUT_MS`: how long an idle keep-alive connection stays open (announced in
   * `Keep-Alive: timeout=…`). Default 5 s. Behind a load balancer, set it above the balancer's idle
   * timeout (e.g. 65000 behind one that idles out after 60 s), so the gateway never closes a
   * connection the balancer is about to reuse (which it answers with a 502).
   */
  readonly keepAliveTimeout: Duration.Duration
  /**
   * `RATE_LIMIT_PER_MINUTE`: refreshes one client may make in any 60 s (a token bucket of that
   * capacity, refilled at limit/60 per second). Default 60; 0 turns the limit off.
   */
  readonly rateLimitPerMinute: number
  /** `TRUST_PROXY_HOPS`: proxies in front of the gateway whose `X-Forwarded-For` entries are trusted. Default 0. */
  readonly trustProxyHops: number
  /** `METRICS_PORT`: the port of the `/metrics` listener, 0 picks a free one, `off` serves no metrics. Default 9464. */
  readonly metricsPort: Option.Option<number>
  /** `METRICS_HOST`: the interface of the `/metrics` listener. Default `127.0.0.1`. */
  readonly metricsHost: string
  /**
   * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` with the other `OTEL_*`
   * variables: export traces over OTLP/HTTP. None: tracing off, at no cost.
   */
  readonly tracing: Option.Option<Tracing.Settings>
  /**
   * `NODE_ENV` is `production`: introspection and GraphiQL off, `DDN_API_URL` required. `NODE_ENV`
   * may otherwise be `development`, `test` or unset; anything else stops start-up.
   */
  readonly production: boolean
}

/** The defaults of every setting. */
export const defaults: GatewayConfig = {
  port: 4000,
  host: "0.0.0.0",
  ddnApiUrl: Option.none(),
  upstream: {
    deadline: DdnAuthClient.defaults.deadline,
    attemptTimeout: DdnAuthClient.defaults.attemptTimeout,
    maxAttempts: DdnAuthClient.defaults.maxAttempts,
    maxInFlight: DdnAuthClient.defaults.maxInFlight
  },
  coordinator: RefreshCoordinator.defaults,
  coordination: Option.none(),
  logLevel: LogLevel.Info,
  corsOrigins: [],
  shutdownGrace: Duration.seconds(10),
  keepAliveTimeout: Duration.seconds(5),
  rateLimitPerMinute: 60,
  trustProxyHops: 0,
  metricsPort: Option.some(9464),
  metricsHost: "127.0.0.1",
  tracing: Option.none(),
  production: false
}

/** A config from the defaults and `overrides`; handy in tests. */
export const make = (overrides: Partial<GatewayConfig> = {}): GatewayConfig => ({ ...defaults, ...overrides })

/** The names `LOG_LEVEL` accepts, lowest first. */
export const logLevels: Readonly<Record<string, LogLevel.LogLevel>> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error,
  fatal: LogLevel.Fatal,
  none: LogLevel.None
}

type Parse<A> = (raw: string) => Either.Either<A, string>

const logLevel: Parse<LogLevel.LogLevel> = (raw) => {
  const level = logLevels[raw.toLowerCase()]
  return level === undefined
    ? Either.left(`expected one of ${Object.keys(logLevels).join(", ")}, got ${EnvConfig.shown(raw)}`)
    : Either.right(level)
}

const origins: Parse<ReadonlyArray<string>> = (raw) => {
  const list = raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
  for (const entry of list) {
    const origin = URL.canParse(entry) ? new URL(entry).origin : "null"
    if (origin === "null" || origin !== entry.replace(/\/$/, "").toLowerCase()) {
      return Either.left(`expected comma-separated origins like https://app.example.com, got ${EnvConfig.shown(entry)}`)
    }
  }
  return Either.right(list.map((entry) => new URL(entry).origin))
}

const host: Parse<string> = (raw) =>
  /^[\w.:-]+$/.test(raw)
    ? Either.right(raw)
    : Either.left(`expected a host name or IP address, got ${EnvConfig.shown(raw)}`)

const withDefault = <A>(name: string, parse: Parse<A>, fallback: A): Config.Config<A> =>
  Config.withDefault(EnvConfig.parsed(name, parse), fallback)

/** The most refreshes one request can carry (graphql-armor allows 3 aliases): the least non-zero rate limit. */
export const maxRefreshesPerRequest = 4

const rateLimit: Parse<number> = (raw) =>
  raw === "0"
    ? Either.right(0)
    : EnvConfig.parseInteger(
        maxRefreshesPerRequest,
        1_000_000_000,
        `0 (off) or an integer from ${maxRefreshesPerRequest} (the most refreshes one request carries) to 1000000000`
      )(raw)

const metricsPort: Parse<Option.Option<number>> = (raw) =>
  raw.toLowerCase() === "off"
    ? Either.right(Option.none())
    : Either.map(EnvConfig.parseInteger(0, 65535, "an integer from 0 to 65535, or off")(raw), Option.some)

/** The values `NODE_ENV` may take. */
export const nodeEnvironments = ["production", "development", "test"] as const

const nodeEnv: Parse<(typeof nodeEnvironments)[number]> = (raw) => {
  const known = nodeEnvironments.find((name) => name === raw)
  return known === undefined
    ? Either.left(`expected one of ${nodeEnvironments.join(", ")}, got ${EnvConfig.shown(raw)}`)
    : Either.right(known)
}

/** The OTLP protocols the gateway speaks (OTLP/HTTP; gRPC is not offered). */
export const otlpProtocols = ["http/protobuf", "http/json"] as const

const otlpProtocol: Parse<Tracing.Protocol> = (raw) => {
  const known = otlpProtocols.find((name) => name === raw)
  return known === undefined
    ? Either.left(`expected one of ${otlpProtocols.join(", ")}, got ${EnvConfig.shown(raw)}`)
    : Either.right(known)
}

/** The samplers `OTEL_TRACES_SAMPLER` names (the SDK's built-in ones). */
export const samplers = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio"
] as const

const sampler: Parse<Tracing.SamplerName> = (raw) => {
  const known = samplers.find((name) => name === raw)
  return known === undefined
    ? Either.left(`expected one of ${samplers.join(", ")}, got ${EnvConfig.shown(raw)}`)
    : Either.right(known)
}

const ratio: Parse<number> = (raw) =>
  /^(0(\.\d+)?|1(\.0+)?|\.\d+)$/.test(raw)
    ? Either.right(Number(raw))
    : Either.left(`expected a number from 0 to 1, got ${EnvConfig.shown(raw)}`)

/** An OTLP endpoint: http(s), never echoed (it may carry credentials). */
const otlpUrl: Parse<URL> = (raw) => {
  if (!URL.canParse(raw)) return Either.left("expected an http:// or https:// URL, got something that is not a URL")
  const url = new URL(raw)
  return url.protocol === "http:" || url.protocol === "https:"
    ? Either.right(url)
    : Either.left(`expected an http:// or https:// URL, got a ${url.protocol} URL`)
}

/** `key=value` pairs separated by commas, percent-decoded (the W3C baggage form the OTel spec uses). */
const keyValues =
  (what: string, echo: boolean): Parse<Record<string, string>> =>
  (raw) => {
    const pairs: Record<string, string> = {}
    for (const entry of raw.split(",")) {
      if (entry.trim() === "") continue
      const at = entry.indexOf("=")
      const key = at <= 0 ? "" : entry.slice(0, at).trim()
      if (key === "")
        return Either.left(`expected comma-separated key=value ${what}${echo ? `, got ${EnvConfig.shown(entry)}` : ""}`)
      try {
        pairs[decodeURIComponent(key)] = decodeURIComponent(entry.slice(at + 1).trim())
      } catch {
        return Either.left(`expected percent-encoded key=value ${what}`)
      }
    }
    return Either.right(pairs)
  }

/**
 * The tracing settings: none unless an endpoint is set. `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is the
 * traces URL as is; `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL that `/v1/traces` is appended to.
 */
const tracing: Config.Config<Option.Option<Tracing.Settings>> = Config.all({
  tracesEndpoint: Config.option(EnvConfig.parsed("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", otlpUrl)),
  endpoint: Config.option(EnvConfig.parsed("OTEL_EXPORTER_OTLP_ENDPOINT", otlpUrl)),
  protocol: withDefault("OTEL_EXPORTER_OTLP_PROTOCOL", otlpProtocol, "http/protobuf" as Tracing.Protocol),
  headers: Config.map(
    withDefault("OTEL_EXPORTER_OTLP_HEADERS", keyValues("headers", false), {} as Record<string, string>),
    Redacted.make
  ),
  serviceName: withDefault("OTEL_SERVICE_NAME", (raw) => Either.right(raw), "ddn-gateway"),
  resourceAttributes: withDefault(
    "OTEL_RESOURCE_ATTRIBUTES",
    keyValues("attributes", true),
    {} as Record<string, string>
  ),
  sampler: withDefault("OTEL_TRACES_SAMPLER", sampler, "parentbased_always_on" as Tracing.SamplerName),
  samplerRatio: withDefault("OTEL_TRACES_SAMPLER_ARG", ratio, 1),
  scheduledDelay: Config.withDefault(EnvConfig.millis("OTEL_BSP_SCHEDULE_DELAY", 0, 600_000), Duration.seconds(5)),
  exportTimeout: Config.withDefault(EnvConfig.millis("OTEL_BSP_EXPORT_TIMEOUT", 1, 600_000), Duration.seconds(30)),
  maxQueueSize: Config.withDefault(EnvConfig.integer("OTEL_BSP_MAX_QUEUE_SIZE", 1, 1_000_000), 2048),
  maxExportBatchSize: Config.withDefault(EnvConfig.integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1, 1_000_000), 512)
}).pipe(
  Config.mapOrFail(({ endpoint, tracesEndpoint, ...settings }) => {
    const url = Option.orElse(tracesEndpoint, () =>
      Option.map(endpoint, (base) => new URL(`${base.href.replace(/\/+$/, "")}/v1/traces`))
    )
    if (Option.isNone(url)) return Either.right(Option.none())
    if (settings.maxExportBatchSize > settings.maxQueueSize) {
      return Either.left(
        ConfigError.InvalidData(["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"], "must not exceed OTEL_BSP_MAX_QUEUE_SIZE")
      )
    }
    return Either.right(Option.some({ ...settings, url: url.value }))
  })
)

/** The gateway's `Config`, reading the variables named on {@link GatewayConfig}. */
export const config: Config.Config<GatewayConfig> = Config.all({
  port: Config.withDefault(EnvConfig.integer("PORT", 0, 65535), defaults.port),
  host: withDefault("HOST", host, defaults.host),
  ddnApiUrl: Config.option(DdnAuthClient.apiUrlConfig),
  upstream: DdnAuthClient.policyConfig,
  coordinator: RefreshCoordinator.config,
  coordination: SharedCoordinator.redisSettingsConfig,
  logLevel: withDefault("LOG_LEVEL", logLevel, defaults.logLevel),
  corsOrigins: withDefault("CORS_ORIGINS", origins, defaults.corsOrigins),
  shutdownGrace: Config.withDefault(EnvConfig.millis("SHUTDOWN_GRACE_MS", 0, 600_000), defaults.shutdownGrace),
  keepAliveTimeout: Config.withDefault(
    EnvConfig.millis("KEEP_ALIVE_TIMEOUT_MS", 1_000, 600_000),
    defaults.keepAliveTimeout
  ),
  rateLimitPerMinute: withDefault("RATE_LIMIT_PER_MINUTE", rateLimit, defaults.rateLimitPerMinute),
  trustProxyHops: Config.withDefault(EnvConfig.integer("TRUST_PROXY_HOPS", 0, 16), defaults.trustProxyHops),
  metricsPort: withDefault("METRICS_PORT", metricsPort, defaults.metricsPort),
  metricsHost: withDefault("METRICS_HOST", host, defaults.metricsHost),
  tracing,
  production: Config.map(Config.option(EnvConfig.parsed("NODE_ENV", nodeEnv)), (env) =>
    Option.contains(env, "production")
  )
}).pipe(
  Config.mapOrFail((settings) =>
    settings.production && Option.isNone(settings.ddnApiUrl)
      ? Either.left(
          ConfigError.InvalidData(["DDN_API_URL"], "required when NODE_ENV=production (the sandbox is for development)")
        )
      : Either.right(settings)
  )
)

/** One line naming the first bad variable, e.g. `Invalid PORT: expected an integer from 0 to 65535, got "x"`. */
export const formatError = (error: ConfigError.ConfigError): string =>
  ConfigError.reduceWithContext(error, undefined, {
    andCase: (_, left) => left,
    orCase: (_, left) => left,
    invalidDataCase: (_, path, message) => `Invalid ${path.join("_")}: ${message}`,
    missingDataCase: (_, path, message) => `Missing ${path.join("_")}: ${message}`,
    sourceUnavailableCase: (_, path, message) => `Unreadable ${path.join("_")}: ${message}`,
    unsupportedCase: (_, path, message) => `Unsupported ${path.join("_")}: ${message}`
  })

/** Reads the config from an environment map such as `process.env`; the error is {@link formatError}'s line. */
export const fromEnv = (env: Readonly<Record<string, string | undefined>>): Either.Either<GatewayConfig, string> => {
  const entries = Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)
  const provider = ConfigProvider.fromMap(new Map(entries))
  return Effect.runSync(
    Effect.either(Effect.withConfigProvider(config, provider)).pipe(Effect.map(Either.mapLeft(formatError)))
  )
}

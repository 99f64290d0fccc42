/**
 * The gateway's settings, read from the environment with Effect `Config`. Unset or blank variables
 * keep their defaults; a bad value fails with a `ConfigError` that {@link formatError} turns into one
 * line naming the variable.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"

/** Everything the gateway can be told. */
export interface GatewayConfig {
  /** `PORT`: TCP port, 0 picks a free one. Default 4000. */
  readonly port: number
  /** `HOST`: interface to listen on. Default `0.0.0.0`. */
  readonly host: string
  /** `DDN_API_URL`: base URL of the DDN API; none runs the embedded sandbox (refused in production). */
  readonly ddnApiUrl: Option.Option<URL>
  /** `DDN_REFRESH_TIMEOUT_MS`: overall deadline of one refresh, retries included. Default 10 s. */
  readonly refreshTimeout: Duration.Duration
  /** `DDN_ATTEMPT_TIMEOUT_MS`: timeout of each upstream attempt; none keeps the core's default (3 s). */
  readonly attemptTimeout: Option.Option<Duration.Duration>
  /** `DDN_MAX_ATTEMPTS`: upstream attempts per refresh, the first included; none keeps the core's default (4). */
  readonly maxAttempts: Option.Option<number>
  /** `DDN_REUSE_WINDOW_MS`: how long a grant is returned again for a resubmitted token; 0 disables. Default 10 s. */
  readonly reuseWindow: Duration.Duration
  /** `DDN_REUSE_MAX_ENTRIES`: most grants the reuse window keeps at once (least recently used evicted). Default 100,000. */
  readonly reuseMaxEntries: number
  /** `LOG_LEVEL`: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `none`. Default `info`. */
  readonly logLevel: LogLevel.LogLevel
  /** `CORS_ORIGINS`: comma-separated origins allowed to call `/graphql` from a browser; empty sends no CORS headers. */
  readonly corsOrigins: ReadonlyArray<string>
  /** `SHUTDOWN_GRACE_MS`: how long SIGTERM waits for in-flight requests before closing connections. Default 10 s. */
  readonly shutdownGrace: Duration.Duration
  /** `NODE_ENV=production`: introspection and GraphiQL off, `DDN_API_URL` required. */
  readonly production: boolean
}

/** The defaults of every setting. */
export const defaults: GatewayConfig = {
  port: 4000,
  host: "0.0.0.0",
  ddnApiUrl: Option.none(),
  refreshTimeout: Duration.seconds(10),
  attemptTimeout: Option.none(),
  maxAttempts: Option.none(),
  reuseWindow: Duration.seconds(10),
  reuseMaxEntries: 100_000,
  logLevel: LogLevel.Info,
  corsOrigins: [],
  shutdownGrace: Duration.seconds(10),
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

const shown = (raw: string) => JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw)

const integer =
  (min: number, max: number, expected: string): Parse<number> =>
  (raw) =>
    /^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max
      ? Either.right(Number(raw))
      : Either.left(`expected ${expected}, got ${shown(raw)}`)

const millis =
  (min: number, max: number, expected: string): Parse<Duration.Duration> =>
  (raw) =>
    Either.map(integer(min, max, expected)(raw), Duration.millis)

const httpUrl: Parse<URL> = (raw) => {
  // The value is not echoed: a URL may carry credentials.
  if (!URL.canParse(raw)) return Either.left("expected an http:// or https:// URL, got something that is not a URL")
  const url = new URL(raw)
  return url.protocol === "http:" || url.protocol === "https:"
    ? Either.right(url)
    : Either.left(`expected an http:// or https:// URL, got a ${url.protocol} URL`)
}

const logLevel: Parse<LogLevel.LogLevel> = (raw) => {
  const level = logLevels[raw.toLowerCase()]
  return level === undefined
    ? Either.left(`expected one of ${Object.keys(logLevels).join(", ")}, got ${shown(raw)}`)
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
      return Either.left(`expected comma-separated origins like https://app.example.com, got ${shown(entry)}`)
    }
  }
  return Either.right(list.map((entry) => new URL(entry).origin))
}

const host: Parse<string> = (raw) =>
  /^[\w.:-]+$/.test(raw) ? Either.right(raw) : Either.left(`expected a host name or IP address, got ${shown(raw)}`)

/** One variable: blank or unset is `None`, a bad value an `InvalidData` error naming the variable. */
const variable = <A>(name: string, parse: Parse<A>): Config.Config<Option.Option<A>> =>
  Config.string(name).pipe(
    Config.option,
    Config.mapOrFail((raw) => {
      const value = Option.getOrElse(raw, () => "").trim()
      if (value === "") return Either.right(Option.none())
      return Either.match(parse(value), {
        onLeft: (message) => Either.left(ConfigError.InvalidData([name], message)),
        onRight: (a) => Either.right(Option.some(a))
      })
    })
  )

const withDefault = <A>(name: string, parse: Parse<A>, fallback: A): Config.Config<A> =>
  Config.map(
    variable(name, parse),
    Option.getOrElse(() => fallback)
  )

/** The gateway's `Config`, reading the variables named on {@link GatewayConfig}. */
export const config: Config.Config<GatewayConfig> = Config.all({
  port: withDefault("PORT", integer(0, 65535, "an integer from 0 to 65535"), defaults.port),
  host: withDefault("HOST", host, defaults.host),
  ddnApiUrl: variable("DDN_API_URL", httpUrl),
  refreshTimeout: withDefault(
    "DDN_REFRESH_TIMEOUT_MS",
    millis(1, 600_000, "an integer of milliseconds from 1 to 600000"),
    defaults.refreshTimeout
  ),
  attemptTimeout: variable("DDN_ATTEMPT_TIMEOUT_MS", millis(1, 600_000, "an integer of milliseconds from 1 to 600000")),
  maxAttempts: variable("DDN_MAX_ATTEMPTS", integer(1, 10, "an integer from 1 to 10")),
  reuseWindow: withDefault(
    "DDN_REUSE_WINDOW_MS",
    millis(0, 3_600_000, "an integer of milliseconds from 0 to 3600000"),
    defaults.reuseWindow
  ),
  reuseMaxEntries: withDefault(
    "DDN_REUSE_MAX_ENTRIES",
    integer(1, 10_000_000, "an integer from 1 to 10000000"),
    defaults.reuseMaxEntries
  ),
  logLevel: withDefault("LOG_LEVEL", logLevel, defaults.logLevel),
  corsOrigins: withDefault("CORS_ORIGINS", origins, defaults.corsOrigins),
  shutdownGrace: withDefault(
    "SHUTDOWN_GRACE_MS",
    millis(0, 600_000, "an integer of milliseconds from 0 to 600000"),
    defaults.shutdownGrace
  ),
  production: Config.map(variable("NODE_ENV", Either.right), (env) => Option.contains(env, "production"))
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

/**
 * The sandbox's settings, their defaults, and how the standalone server reads them from the environment.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Faults from "./Faults.js"
import * as TokenAuthority from "./TokenAuthority.js"

/**
 * Everything a sandbox can be told: where to listen, token lifetimes, reuse handling and fault rates.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxOptions extends TokenAuthority.Options {
  /** TCP port; 0 picks a free one. */
  readonly port: number
  /** Interface to listen on. */
  readonly host: string
  /** Probabilistic faults on the refresh endpoint; scripted ones and outages are injected at run time. */
  readonly faults: Faults.FaultRates
  /** DDN's global rate limit: refresh requests per second beyond which it answers 429 (see `RateLimit`); 0 is off. */
  readonly rateLimitRps: number
}

/**
 * In-process defaults: {@link TokenAuthority.defaults}, an ephemeral port on 127.0.0.1, no faults, no rate limit.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults: SandboxOptions = {
  ...TokenAuthority.defaults,
  port: 0,
  host: "127.0.0.1",
  faults: {},
  rateLimitRps: 0
}

/**
 * The port of the standalone server when `PORT` is unset.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultStandalonePort = 4010

/**
 * The environment as `process.env` has it.
 *
 * @since 0.1.0
 * @category models
 */
export type Env = Readonly<Record<string, string | undefined>>

class InvalidVariable {
  constructor(readonly line: string) {}
}

const fail = (name: string, expected: string, raw: string): never => {
  throw new InvalidVariable(`Invalid ${name}: expected ${expected}, got ${JSON.stringify(raw)}`)
}

const integerPattern = /^\d+$/
const decimalPattern = /^(?:\d+(?:\.\d*)?|\.\d+)$/

const integer = (name: string, raw: string, min: number, max: number, expected: string): number => {
  const value = Number(raw)
  return integerPattern.test(raw) && value >= min && value <= max ? value : fail(name, expected, raw)
}

const parsers = {
  port: (name: string, raw: string) => integer(name, raw, 0, 65535, "an integer from 0 to 65535"),
  positive: (name: string, raw: string) => integer(name, raw, 1, Number.MAX_SAFE_INTEGER, "a positive integer"),
  nonNegative: (name: string, raw: string) => integer(name, raw, 0, Number.MAX_SAFE_INTEGER, "a non-negative integer"),
  rate: (name: string, raw: string) => {
    const value = Number(raw)
    return decimalPattern.test(raw) && value <= 1 ? value : fail(name, "a number from 0 to 1", raw)
  },
  seed: (name: string, raw: string) =>
    /^-?\d+$/.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : fail(name, "an integer", raw),
  latency: (name: string, raw: string): Faults.FaultRates["latencyMs"] => {
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(raw)
    if (range === null) return parsers.nonNegative(name, raw)
    const min = Number(range[1])
    const max = Number(range[2])
    return min <= max ? { min, max } : fail(name, "milliseconds as N or MIN-MAX with MIN <= MAX", raw)
  }
}

const errorRatePrefix = "SANDBOX_ERROR_RATE_"
const rateVariable = /^SANDBOX_(ERROR_RATE_\d+|RATE_LIMIT_RATE|HANG_RATE|RESET_RATE|MALFORMED_RATE)$/

/**
 * Reads the standalone server's settings from the environment. Unset or blank variables keep their
 * defaults (`PORT` 4010, `HOST` 127.0.0.1, the rest as in {@link defaults}):
 *
 * `PORT`, `HOST`, `SANDBOX_ACCESS_TOKEN_TTL_S`, `SANDBOX_REFRESH_TOKEN_TTL_S`,
 * `SANDBOX_REUSE_INTERVAL_MS`, `SANDBOX_REUSE_DETECTION_DEPTH`, `SANDBOX_LATENCY_MS` (`N` or `MIN-MAX`),
 * `SANDBOX_ERROR_RATE_<STATUS>` (e.g. `SANDBOX_ERROR_RATE_503=0.1`, any status 400–599),
 * `SANDBOX_RATE_LIMIT_RATE`, `SANDBOX_RETRY_AFTER_S`, `SANDBOX_HANG_RATE`, `SANDBOX_RESET_RATE`,
 * `SANDBOX_MALFORMED_RATE`, `SANDBOX_AFTER_PHASE_RATE`, `SANDBOX_SEED`, `SANDBOX_RATE_LIMIT_RPS`.
 *
 * Returns the options, or one line naming the first bad variable.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEnv = (env: Env): Either.Either<SandboxOptions, string> => {
  const read = <A>(name: string, parse: (name: string, raw: string) => A): A | undefined => {
    const raw = env[name]?.trim()
    return raw === undefined || raw === "" ? undefined : parse(name, raw)
  }
  const defined = <A extends object>(record: { readonly [K in keyof A]-?: A[K] | undefined }): A =>
    Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as A

  try {
    const statusRates: Record<string, number> = {}
    for (const name of Object.keys(env).sort()) {
      if (!name.startsWith(errorRatePrefix)) continue
      const status = name.slice(errorRatePrefix.length)
      if (!/^[45]\d\d$/.test(status)) {
        throw new InvalidVariable(`Invalid ${name}: the suffix must be an HTTP status from 400 to 599`)
      }
      const rate = read(name, parsers.rate)
      if (rate !== undefined) statusRates[status] = rate
    }
    const faults = defined<Faults.FaultRates>({
      latencyMs: read("SANDBOX_LATENCY_MS", parsers.latency),
      statusRates: Object.keys(statusRates).length > 0 ? statusRates : undefined,
      rateLimitRate: read("SANDBOX_RATE_LIMIT_RATE", parsers.rate),
      retryAfterSeconds: read("SANDBOX_RETRY_AFTER_S", parsers.nonNegative),
      hangRate: read("SANDBOX_HANG_RATE", parsers.rate),
      resetRate: read("SANDBOX_RESET_RATE", parsers.rate),
      malformedRate: read("SANDBOX_MALFORMED_RATE", parsers.rate),
      afterPhaseRate: read("SANDBOX_AFTER_PHASE_RATE", parsers.rate),
      seed: read("SANDBOX_SEED", parsers.seed)
    })
    const total = Faults.totalRate(faults)
    if (total > 1 + 1e-9) {
      const names = Object.keys(env).filter((name) => rateVariable.test(name) && env[name]?.trim())
      throw new InvalidVariable(
        `Invalid ${names.sort().join(" + ")}: the fault rates add up to ${Number(total.toFixed(6))}, at most 1`
      )
    }
    return Either.right({
      ...defaults,
      port: read("PORT", parsers.port) ?? defaultStandalonePort,
      host: read("HOST", (_, raw) => raw) ?? defaults.host,
      accessTokenTtlSeconds: read("SANDBOX_ACCESS_TOKEN_TTL_S", parsers.positive) ?? defaults.accessTokenTtlSeconds,
      refreshTokenTtlSeconds: read("SANDBOX_REFRESH_TOKEN_TTL_S", parsers.positive) ?? defaults.refreshTokenTtlSeconds,
      reuseIntervalMs: read("SANDBOX_REUSE_INTERVAL_MS", parsers.nonNegative) ?? defaults.reuseIntervalMs,
      reuseDetectionDepth: read("SANDBOX_REUSE_DETECTION_DEPTH", parsers.positive) ?? defaults.reuseDetectionDepth,
      faults,
      rateLimitRps: read("SANDBOX_RATE_LIMIT_RPS", parsers.nonNegative) ?? defaults.rateLimitRps
    })
  } catch (error) {
    if (error instanceof InvalidVariable) return Either.left(error.line)
    throw error
  }
}

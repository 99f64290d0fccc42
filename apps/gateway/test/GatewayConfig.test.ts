import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as GatewayConfig from "../src/GatewayConfig.js"
import * as Hardening from "../src/Hardening.js"

const load = (env: Record<string, string>) => GatewayConfig.fromEnv(env)
const errorLine = (env: Record<string, string>) => Either.getLeft(load(env)).pipe(Option.getOrThrow)

describe("GatewayConfig", () => {
  it("has the documented defaults", () => {
    const config = Either.getOrThrow(load({}))
    expect(config).toEqual(GatewayConfig.defaults)
    expect(config.port).toBe(4000)
    expect(config.host).toBe("0.0.0.0")
    expect(Option.isNone(config.ddnApiUrl)).toBe(true)
    expect(Duration.toMillis(Duration.decode(config.upstream.deadline!))).toBe(10_000)
    expect(Duration.toMillis(Duration.decode(config.upstream.attemptTimeout!))).toBe(3_000)
    expect(config.upstream.maxAttempts).toBe(4)
    expect(Duration.toMillis(Duration.decode(config.coordinator.reuseWindow!))).toBe(10_000)
    expect(config.coordinator.maxEntries).toBe(100_000)
    expect(config.logLevel).toBe(LogLevel.Info)
    expect(config.corsOrigins).toEqual([])
    expect(config.production).toBe(false)
    expect(config.rateLimitPerMinute).toBe(60)
    expect(config.trustProxyHops).toBe(0)
    expect(config.metricsPort).toEqual(Option.some(9464))
    expect(config.metricsHost).toBe("127.0.0.1")
  })

  it("reads the protection settings: rate limit (0 off), proxy hops, metrics port (0 free, off) and host", () => {
    const config = Either.getOrThrow(
      load({ RATE_LIMIT_PER_MINUTE: "600", TRUST_PROXY_HOPS: "2", METRICS_PORT: "0", METRICS_HOST: "0.0.0.0" })
    )
    expect(config).toMatchObject({ rateLimitPerMinute: 600, trustProxyHops: 2, metricsHost: "0.0.0.0" })
    expect(config.metricsPort).toEqual(Option.some(0))
    expect(Either.getOrThrow(load({ RATE_LIMIT_PER_MINUTE: "0" })).rateLimitPerMinute).toBe(0)
    expect(Either.getOrThrow(load({ METRICS_PORT: "OFF" })).metricsPort).toEqual(Option.none())
  })

  it("refuses a non-zero rate limit below the refreshes one request can carry", () => {
    expect(errorLine({ RATE_LIMIT_PER_MINUTE: "3" })).toBe(
      'Invalid RATE_LIMIT_PER_MINUTE: expected 0 (off) or an integer from 4 (the most refreshes one request carries) to 1000000000, got "3"'
    )
    expect(GatewayConfig.maxRefreshesPerRequest).toBe(Hardening.armor.maxAliases.n + 1)
  })

  it("reads every variable", () => {
    const config = Either.getOrThrow(
      load({
        PORT: "0",
        HOST: "127.0.0.1",
        DDN_API_URL: "https://ddn.example.com/",
        DDN_REFRESH_TIMEOUT_MS: "2500",
        DDN_ATTEMPT_TIMEOUT_MS: "700",
        DDN_MAX_ATTEMPTS: "2",
        DDN_REUSE_WINDOW_MS: "0",
        DDN_REUSE_MAX_ENTRIES: "500",
        LOG_LEVEL: "DEBUG",
        CORS_ORIGINS: "https://app.example.com, http://localhost:3000",
        SHUTDOWN_GRACE_MS: "1500",
        KEEP_ALIVE_TIMEOUT_MS: "65000",
        NODE_ENV: "production"
      })
    )
    expect(config).toMatchObject({
      port: 0,
      host: "127.0.0.1",
      upstream: { maxAttempts: 2 },
      logLevel: LogLevel.Debug,
      corsOrigins: ["https://app.example.com", "http://localhost:3000"],
      production: true
    })
    expect(Option.getOrThrow(config.ddnApiUrl).href).toBe("https://ddn.example.com/")
    expect(Duration.toMillis(Duration.decode(config.upstream.deadline!))).toBe(2500)
    expect(Duration.toMillis(Duration.decode(config.upstream.attemptTimeout!))).toBe(700)
    expect(Duration.toMillis(Duration.decode(config.coordinator.reuseWindow!))).toBe(0)
    expect(config.coordinator.maxEntries).toBe(500)
    expect(Duration.toMillis(config.shutdownGrace)).toBe(1500)
    expect(Duration.toMillis(config.keepAliveTimeout)).toBe(65000)
  })

  it.each([
    "PORT",
    "HOST",
    "DDN_API_URL",
    "DDN_REFRESH_TIMEOUT_MS",
    "DDN_ATTEMPT_TIMEOUT_MS",
    "DDN_MAX_ATTEMPTS",
    "DDN_REUSE_WINDOW_MS",
    "DDN_REUSE_MAX_ENTRIES",
    "LOG_LEVEL",
    "CORS_ORIGINS",
    "SHUTDOWN_GRACE_MS",
    "KEEP_ALIVE_TIMEOUT_MS",
    "RATE_LIMIT_PER_MINUTE",
    "TRUST_PROXY_HOPS",
    "METRICS_PORT",
    "METRICS_HOST",
    "NODE_ENV"
  ])("refuses a blank %s instead of taking the default", (name) => {
    expect(errorLine({ [name]: " " })).toBe(`Invalid ${name}: must not be empty (unset it to use the default)`)
    expect(errorLine({ [name]: "" })).toMatch(new RegExp(`^Invalid ${name}: must not be empty`))
  })

  it.each(["prod", "Production", "staging"])("refuses NODE_ENV=%s: only production, development and test", (value) => {
    expect(errorLine({ NODE_ENV: value })).toBe(
      `Invalid NODE_ENV: expected one of production, development, test, got "${value}"`
    )
  })

  it("reads the DDN_* variables with the core's own Configs: one parse, one set of bounds", () => {
    // The core's messages, not a second copy of them in the gateway.
    expect(errorLine({ DDN_MAX_ATTEMPTS: "11" })).toBe(
      'Invalid DDN_MAX_ATTEMPTS: expected an integer from 1 to 10, got "11"'
    )
    expect(errorLine({ DDN_REUSE_MAX_ENTRIES: "0" })).toBe(
      'Invalid DDN_REUSE_MAX_ENTRIES: expected an integer from 1 to 10000000, got "0"'
    )
  })

  it.each([
    ["PORT", "http"],
    ["PORT", "65536"],
    ["PORT", "-1"],
    ["HOST", "bad host"],
    ["DDN_API_URL", "not a url"],
    ["DDN_API_URL", "ftp://ddn.example.com"],
    ["DDN_REFRESH_TIMEOUT_MS", "0"],
    ["DDN_REFRESH_TIMEOUT_MS", "1.5"],
    ["DDN_ATTEMPT_TIMEOUT_MS", "soon"],
    ["DDN_MAX_ATTEMPTS", "11"],
    ["DDN_REUSE_WINDOW_MS", "-5"],
    ["DDN_REUSE_WINDOW_MS", "3600001"],
    ["DDN_REUSE_MAX_ENTRIES", "many"],
    ["LOG_LEVEL", "verbose"],
    ["SHUTDOWN_GRACE_MS", "forever"],
    ["KEEP_ALIVE_TIMEOUT_MS", "0"],
    ["KEEP_ALIVE_TIMEOUT_MS", "600001"],
    ["CORS_ORIGINS", "*"],
    ["CORS_ORIGINS", "https://app.example.com/path"],
    ["RATE_LIMIT_PER_MINUTE", "-1"],
    ["RATE_LIMIT_PER_MINUTE", "1e3"],
    ["TRUST_PROXY_HOPS", "17"],
    ["TRUST_PROXY_HOPS", "yes"],
    ["METRICS_PORT", "65536"],
    ["METRICS_PORT", "none"],
    ["METRICS_HOST", "bad host"]
  ])("refuses %s=%s with one line naming it", (name, value) => {
    const line = errorLine({ [name]: value })
    expect(line.startsWith(`Invalid ${name}: `)).toBe(true)
    expect(line).not.toContain("\n")
  })

  it("requires DDN_API_URL in production", () => {
    expect(errorLine({ NODE_ENV: "production" })).toMatch(/^Invalid DDN_API_URL: required when NODE_ENV=production/)
  })

  it("does not echo a URL, which may carry credentials", () => {
    expect(errorLine({ DDN_API_URL: "ftp://user:secret@ddn.example.com" })).not.toContain("secret")
  })

  it("names the first bad variable when several are bad", () => {
    expect(errorLine({ PORT: "x", LOG_LEVEL: "y" })).toMatch(/^Invalid PORT: /)
  })
})

import { describe, expect, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as GatewayConfig from "../src/GatewayConfig.js"

const load = (env: Record<string, string>) => GatewayConfig.fromEnv(env)
const errorLine = (env: Record<string, string>) => Either.getLeft(load(env)).pipe(Option.getOrThrow)

describe("GatewayConfig", () => {
  it("has the documented defaults", () => {
    const config = Either.getOrThrow(load({}))
    expect(config).toEqual(GatewayConfig.defaults)
    expect(config.port).toBe(4000)
    expect(config.host).toBe("0.0.0.0")
    expect(Option.isNone(config.ddnApiUrl)).toBe(true)
    expect(Duration.toMillis(config.refreshTimeout)).toBe(10_000)
    expect(Duration.toMillis(config.reuseWindow)).toBe(10_000)
    expect(config.logLevel).toBe(LogLevel.Info)
    expect(config.corsOrigins).toEqual([])
    expect(config.production).toBe(false)
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
        LOG_LEVEL: "DEBUG",
        CORS_ORIGINS: "https://app.example.com, http://localhost:3000",
        SHUTDOWN_GRACE_MS: "1500",
        NODE_ENV: "production"
      })
    )
    expect(config).toMatchObject({
      port: 0,
      host: "127.0.0.1",
      maxAttempts: Option.some(2),
      logLevel: LogLevel.Debug,
      corsOrigins: ["https://app.example.com", "http://localhost:3000"],
      production: true
    })
    expect(Option.getOrThrow(config.ddnApiUrl).href).toBe("https://ddn.example.com/")
    expect(Duration.toMillis(config.refreshTimeout)).toBe(2500)
    expect(Option.map(config.attemptTimeout, Duration.toMillis)).toEqual(Option.some(700))
    expect(Duration.toMillis(config.reuseWindow)).toBe(0)
    expect(Duration.toMillis(config.shutdownGrace)).toBe(1500)
  })

  it("treats blank values as unset", () => {
    expect(Either.getOrThrow(load({ PORT: " ", LOG_LEVEL: "" }))).toEqual(GatewayConfig.defaults)
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
    ["LOG_LEVEL", "verbose"],
    ["SHUTDOWN_GRACE_MS", "forever"],
    ["CORS_ORIGINS", "*"],
    ["CORS_ORIGINS", "https://app.example.com/path"]
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

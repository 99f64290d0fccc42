import * as Either from "effect/Either"
import { describe, expect, it } from "vitest"
import * as Faults from "../src/Faults.js"
import * as SandboxOptions from "../src/SandboxOptions.js"

const parse = (env: SandboxOptions.Env) => SandboxOptions.fromEnv(env)

const options = (env: SandboxOptions.Env): SandboxOptions.SandboxOptions => {
  const result = parse(env)
  if (Either.isLeft(result)) throw new Error(result.left)
  return result.right
}

const error = (env: SandboxOptions.Env): string => {
  const result = parse(env)
  if (Either.isRight(result)) throw new Error("expected an error")
  return result.left
}

describe("SandboxOptions", () => {
  it("has in-process defaults: ephemeral port, loopback, 1 h / 30 d tokens, no reuse interval, no faults", () => {
    expect(SandboxOptions.defaults).toMatchObject({
      port: 0,
      host: "127.0.0.1",
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 2_592_000,
      reuseIntervalMs: 0,
      reuseDetectionDepth: 100,
      faults: {}
    })
  })

  it("reads an empty environment as the defaults on port 4010", () => {
    expect(options({})).toEqual({ ...SandboxOptions.defaults, port: 4010 })
  })

  it("treats blank variables as unset", () => {
    expect(options({ PORT: "", HOST: "  ", SANDBOX_HANG_RATE: "" })).toEqual({ ...SandboxOptions.defaults, port: 4010 })
  })

  it("reads every variable", () => {
    const result = options({
      PORT: "0",
      HOST: "0.0.0.0",
      SANDBOX_ACCESS_TOKEN_TTL_S: "60",
      SANDBOX_REFRESH_TOKEN_TTL_S: "600",
      SANDBOX_REUSE_INTERVAL_MS: "10000",
      SANDBOX_REUSE_DETECTION_DEPTH: "5",
      SANDBOX_LATENCY_MS: "20-200",
      SANDBOX_ERROR_RATE_500: "0.05",
      SANDBOX_ERROR_RATE_502: "0.01",
      SANDBOX_ERROR_RATE_503: ".1",
      SANDBOX_ERROR_RATE_504: "0",
      SANDBOX_RATE_LIMIT_RATE: "0.02",
      SANDBOX_RETRY_AFTER_S: "3",
      SANDBOX_HANG_RATE: "0.01",
      SANDBOX_RESET_RATE: "0.01",
      SANDBOX_MALFORMED_RATE: "0.01",
      SANDBOX_AFTER_PHASE_RATE: "0.5",
      SANDBOX_SEED: "-7",
      UNRELATED: "ignored"
    })
    expect(result).toMatchObject({
      port: 0,
      host: "0.0.0.0",
      accessTokenTtlSeconds: 60,
      refreshTokenTtlSeconds: 600,
      reuseIntervalMs: 10_000,
      reuseDetectionDepth: 5
    })
    expect(result.faults).toEqual({
      latencyMs: { min: 20, max: 200 },
      statusRates: { 500: 0.05, 502: 0.01, 503: 0.1, 504: 0 },
      rateLimitRate: 0.02,
      retryAfterSeconds: 3,
      hangRate: 0.01,
      resetRate: 0.01,
      malformedRate: 0.01,
      afterPhaseRate: 0.5,
      seed: -7
    })
    expect(() => Faults.make(result.faults)).not.toThrow()
  })

  it("reads SANDBOX_RATE_LIMIT_RPS, off (0) when unset", () => {
    expect(options({}).rateLimitRps).toBe(0)
    expect(options({ SANDBOX_RATE_LIMIT_RPS: "100" }).rateLimitRps).toBe(100)
  })

  it("reads a fixed latency", () => {
    expect(options({ SANDBOX_LATENCY_MS: "75" }).faults).toEqual({ latencyMs: 75 })
  })

  const refused: Record<string, ReadonlyArray<string>> = {
    PORT: ["abc", "65536", "-1", "80.5"],
    SANDBOX_ACCESS_TOKEN_TTL_S: ["0"],
    SANDBOX_REFRESH_TOKEN_TTL_S: ["1e3"],
    SANDBOX_REUSE_INTERVAL_MS: ["-5"],
    SANDBOX_REUSE_DETECTION_DEPTH: ["0"],
    SANDBOX_LATENCY_MS: ["fast", "200-20"],
    SANDBOX_ERROR_RATE_503: ["1.5", "10%"],
    SANDBOX_ERROR_RATE_200: ["0.1"],
    SANDBOX_ERROR_RATE_ABC: ["0.1"],
    SANDBOX_RATE_LIMIT_RATE: ["-0.1"],
    SANDBOX_RETRY_AFTER_S: ["soon"],
    SANDBOX_HANG_RATE: ["2"],
    SANDBOX_RESET_RATE: ["x"],
    SANDBOX_MALFORMED_RATE: ["NaN"],
    SANDBOX_AFTER_PHASE_RATE: ["1.01"],
    SANDBOX_SEED: ["0x10"],
    SANDBOX_RATE_LIMIT_RPS: ["-1", "fast"]
  }

  const refusals = Object.entries(refused).flatMap(([name, values]) => values.map((value) => [name, value]))

  it.each(refusals)("refuses %s=%s with one line naming it", (name, value) => {
    const line = error({ [name]: value })
    expect(line).toContain(name)
    expect(line).not.toContain("\n")
  })

  it("refuses rates that add up to more than 1, naming them", () => {
    const line = error({ SANDBOX_HANG_RATE: "0.6", SANDBOX_ERROR_RATE_503: "0.5", SANDBOX_SEED: "1" })
    expect(line).toContain("SANDBOX_ERROR_RATE_503 + SANDBOX_HANG_RATE")
    expect(line).not.toContain("SANDBOX_SEED")
    expect(line).not.toContain("\n")
  })
})

import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as GatewayLogger from "../src/GatewayLogger.js"

const capture = (level: LogLevel.LogLevel) => {
  const chunks: Array<string> = []
  const logger = GatewayLogger.make({ level, sink: (chunk) => chunks.push(chunk) })
  const lines = () => {
    logger.flush()
    return chunks
      .join("")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line))
  }
  return { logger, lines }
}

describe("GatewayLogger", () => {
  it("writes one JSON object per line with time, level and msg", () => {
    const { logger, lines } = capture(LogLevel.Info)
    logger.log(LogLevel.Info, "hello", { requestId: "r1", status: 200 })
    logger.log(LogLevel.Warning, "careful")
    expect(lines()).toEqual([
      { time: expect.any(String), level: "info", msg: "hello", requestId: "r1", status: 200 },
      { time: expect.any(String), level: "warn", msg: "careful" }
    ])
  })

  it("skips lines below the level, and everything at none", () => {
    const info = capture(LogLevel.Info)
    info.logger.log(LogLevel.Debug, "hidden")
    expect(info.lines()).toEqual([])
    expect(info.logger.isEnabled(LogLevel.Debug)).toBe(false)
    const none = capture(LogLevel.None)
    none.logger.log(LogLevel.Fatal, "hidden")
    expect(none.lines()).toEqual([])
  })

  it("batches lines and writes them on the next turn of the event loop", async () => {
    const chunks: Array<string> = []
    const logger = GatewayLogger.make({ level: LogLevel.Info, sink: (chunk) => chunks.push(chunk) })
    logger.log(LogLevel.Info, "one")
    logger.log(LogLevel.Info, "two")
    expect(chunks).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(chunks).toHaveLength(1)
    expect(chunks[0]!.split("\n")).toHaveLength(3)
  })

  it("gives yoga a logger that never prints its arguments", () => {
    const { logger, lines } = capture(LogLevel.Trace)
    const yoga = GatewayLogger.yogaLogger(logger)
    const secret = "refresh-token-secret-value"
    yoga.debug("Processing GraphQL Parameters", { variables: { refreshToken: secret } })
    yoga.info(secret)
    yoga.warn(secret)
    yoga.error(new Error(`Variable "$refreshToken" got invalid value "${secret}"`))
    const output = JSON.stringify(lines())
    expect(output).not.toContain(secret)
    expect(lines()).toEqual([
      expect.objectContaining({ level: "warn", msg: "graphql-yoga warning", kinds: ["string"] }),
      expect.objectContaining({ level: "error", msg: "graphql-yoga error", kinds: ["Error"] })
    ])
  })

  it("routes Effect logs through the same JSON lines, with annotations", () => {
    const { logger, lines } = capture(LogLevel.Info)
    Effect.runSync(
      Effect.logWarning("earlier attempt may have rotated the token").pipe(
        Effect.annotateLogs({ attempts: 2 }),
        Effect.provide(
          Layer.merge(
            Logger.replace(Logger.defaultLogger, GatewayLogger.effectLogger(logger)),
            Logger.minimumLogLevel(LogLevel.Info)
          )
        )
      )
    )
    Effect.runSync(
      Effect.logDebug("hidden").pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, GatewayLogger.effectLogger(logger)))
      )
    )
    expect(lines()).toEqual([
      expect.objectContaining({ level: "warn", msg: "earlier attempt may have rotated the token", attempts: 2 })
    ])
  })
})

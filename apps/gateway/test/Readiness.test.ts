import { describe, expect, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Readiness from "../src/Readiness.js"

/** A probe that counts its calls and answers `up`, after `latency` on the clock. */
const countingProbe = (latency = Duration.zero) => {
  const state = { calls: 0, up: true }
  const probe = Effect.suspend(() => {
    state.calls += 1
    const up = state.up
    return Effect.as(Effect.sleep(latency), up)
  })
  return { state, probe }
}

describe("Readiness", () => {
  it.effect("probes at most once per interval and answers from the last result meanwhile", () =>
    Effect.gen(function* () {
      const { state, probe } = countingProbe()
      const check = yield* Readiness.make({ apiUrl: "http://ddn.invalid", probe })
      for (let i = 0; i < 1_000; i++) expect((yield* check).ready).toBe(true)
      expect(state.calls).toBe(1)

      state.up = false
      yield* TestClock.adjust(Duration.millis(4_999))
      expect((yield* check).ready).toBe(true)
      expect(state.calls).toBe(1)

      yield* TestClock.adjust(Duration.millis(1))
      const report = yield* check
      expect(report).toEqual({ ready: false, body: { status: "upstream_unavailable" } })
      expect(state.calls).toBe(2)
    })
  )

  it.effect("shares one probe in flight among concurrent checks", () =>
    Effect.gen(function* () {
      const { state, probe } = countingProbe(Duration.seconds(1))
      const check = yield* Readiness.make({ apiUrl: "http://ddn.invalid", probe })
      const checks = yield* Effect.fork(
        Effect.all(
          Array.from({ length: 50 }, () => check),
          { concurrency: "unbounded" }
        )
      )
      yield* TestClock.adjust(Duration.seconds(1))
      const reports = yield* Fiber.join(checks)
      expect(reports.every((report) => report.ready)).toBe(true)
      expect(state.calls).toBe(1)
    })
  )

  it.effect("adds each member's field to the body, read on every call", () =>
    Effect.gen(function* () {
      const { probe } = countingProbe()
      let mode = "memory"
      const check = yield* Readiness.make({
        apiUrl: "http://ddn.invalid",
        probe,
        members: [{ name: "coordination", read: () => mode }]
      })
      expect((yield* check).body).toEqual({ status: "ready", coordination: "memory" })
      mode = "degraded"
      expect((yield* check).body).toEqual({ status: "ready", coordination: "degraded" })
    })
  )

  it("the upstream member: the circuit and calls in flight, and while paused when the pause ends and the seconds left", () => {
    const status = { circuit: "closed", pausedUntil: Option.none(), inFlight: 3, maxInFlight: 256 } as const
    expect(Readiness.upstreamMember(status, 0)).toEqual({ circuit: "closed", inFlight: 3, maxInFlight: 256 })
    const paused = { ...status, circuit: "open" as const, pausedUntil: Option.some(DateTime.unsafeMake(12_500)) }
    expect(Readiness.upstreamMember(paused, 10_000)).toEqual({
      circuit: "open",
      inFlight: 3,
      maxInFlight: 256,
      pausedUntil: "1970-01-01T00:00:12.500Z",
      pausedForSeconds: 3
    })
  })
})

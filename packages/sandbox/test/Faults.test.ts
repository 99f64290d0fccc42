import * as Either from "effect/Either"
import { describe, expect, it } from "vitest"
import * as Faults from "../src/Faults.js"

const draws = (faults: Faults.Faults, n: number) => Array.from({ length: n }, () => faults.draw())

describe("Faults", () => {
  it("draws nothing by default, by identity", () => {
    const faults = Faults.make()
    expect(faults.draw()).toBe(Faults.none)
    expect(faults.pending()).toBe(0)
  })

  it("plays scripted faults in order, each `times` times", () => {
    const faults = Faults.make()
    faults.inject({ type: "status", status: 503 }, 2)
    faults.inject({ type: "reset", phase: "after" })
    expect(faults.pending()).toBe(3)
    expect(draws(faults, 4).map((draw) => draw.fault)).toEqual([
      { type: "status", status: 503 },
      { type: "status", status: 503 },
      { type: "reset", phase: "after" },
      undefined
    ])
    expect(faults.pending()).toBe(0)
  })

  it("gives scripted faults precedence over rates", () => {
    const faults = Faults.make({ statusRates: { 500: 1 }, latencyMs: 100 })
    faults.inject({ type: "hang" })
    expect(faults.draw()).toEqual({ latencyMs: 0, fault: { type: "hang" } })
    expect(faults.draw()).toEqual({ latencyMs: 100, fault: { type: "status", status: 500 } })
  })

  it("repeats the same draws for the same seed", () => {
    const rates: Faults.FaultRates = {
      statusRates: { 500: 0.1, 503: 0.1 },
      rateLimitRate: 0.1,
      hangRate: 0.05,
      resetRate: 0.05,
      malformedRate: 0.1,
      latencyMs: { min: 5, max: 50 },
      afterPhaseRate: 0.5,
      seed: 42
    }
    const first = draws(Faults.make(rates), 500)
    expect(draws(Faults.make(rates), 500)).toEqual(first)
    expect(draws(Faults.make({ ...rates, seed: 43 }), 500)).not.toEqual(first)
    const restarted = Faults.make({})
    restarted.setRates(rates)
    expect(draws(restarted, 500)).toEqual(first)
  })

  it("strikes each fault at about its rate", () => {
    const faults = Faults.make({ statusRates: { 503: 0.2 }, hangRate: 0.1, resetRate: 0.05, seed: 7 })
    const n = 20_000
    const kinds = draws(faults, n).map(({ fault }) => (fault?.type === "status" ? String(fault.status) : fault?.type))
    const share = (kind: string | undefined) => kinds.filter((k) => k === kind).length / n
    expect(share("503")).toBeCloseTo(0.2, 1)
    expect(share("hang")).toBeCloseTo(0.1, 1)
    expect(share("reset")).toBeCloseTo(0.05, 1)
    expect(share(undefined)).toBeCloseTo(0.65, 1)
    expect(faults.injected()).toMatchObject({ hang: kinds.filter((k) => k === "hang").length, latency: 0 })
  })

  it("adds a fixed or uniformly drawn latency", () => {
    expect(Faults.make({ latencyMs: 25 }).draw()).toEqual({ latencyMs: 25, fault: undefined })
    const latencies = draws(Faults.make({ latencyMs: { min: 10, max: 20 }, seed: 1 }), 1000).map((d) => d.latencyMs)
    expect(Math.min(...latencies)).toBe(10)
    expect(Math.max(...latencies)).toBe(20)
  })

  it("rate-limits with 429 and Retry-After (default 1 s)", () => {
    expect(Faults.make({ rateLimitRate: 1 }).draw().fault).toEqual({ type: "status", status: 429, retryAfter: 1 })
    expect(Faults.make({ rateLimitRate: 1, retryAfterSeconds: 7 }).draw().fault).toEqual({
      type: "status",
      status: 429,
      retryAfter: 7
    })
  })

  it("sends one of the malformed bodies, and moves faults after processing at afterPhaseRate", () => {
    const [draw] = draws(Faults.make({ malformedRate: 1, afterPhaseRate: 1, seed: 3 }), 1)
    expect(draw?.fault?.type).toBe("malformed")
    expect(draw?.fault?.phase).toBe("after")
    expect(Faults.malformedBodies).toContain(draw?.fault?.type === "malformed" ? draw.fault.body : undefined)
  })

  it("counts what it injected, by kind and status", () => {
    const faults = Faults.make()
    faults.inject({ type: "status", status: 503 }, 2)
    faults.inject({ type: "status", status: 429, retryAfter: 1 })
    faults.inject({ type: "latency", ms: 5 })
    faults.inject({ type: "malformed" })
    draws(faults, 6)
    expect(faults.injected()).toEqual({ latency: 1, hang: 0, reset: 0, malformed: 1, status: { 503: 2, 429: 1 } })
  })

  it("reset clears the queue and the rates", () => {
    const faults = Faults.make({ hangRate: 1 })
    faults.inject({ type: "reset" })
    faults.reset()
    expect(faults.pending()).toBe(0)
    expect(faults.draw()).toBe(Faults.none)
  })

  it("refuses invalid faults, times and rates", () => {
    const faults = Faults.make()
    expect(() => faults.inject({ type: "status", status: 42 })).toThrow(RangeError)
    expect(() => faults.inject({ type: "latency", ms: -1 })).toThrow(RangeError)
    expect(() => faults.inject({ type: "hang" }, 0)).toThrow(RangeError)
    expect(() => faults.setRates({ hangRate: 1.5 })).toThrow(RangeError)
    expect(() => faults.setRates({ hangRate: 0.6, resetRate: 0.6 })).toThrow(/add up to at most 1/)
    expect(() => faults.setRates({ latencyMs: { min: 10, max: 5 } })).toThrow(RangeError)
    expect(() => Faults.make({ statusRates: { 99: 0.1 } })).toThrow(RangeError)
    expect(faults.pending()).toBe(0)
  })

  it("decodes faults and rates from untrusted JSON", () => {
    expect(Faults.decodeFault({ type: "status", status: 503, phase: "after" })).toEqual(
      Either.right({ type: "status", status: 503, phase: "after" })
    )
    expect(Either.isLeft(Faults.decodeFault({ type: "explode" }))).toBe(true)
    expect(Either.isLeft(Faults.decodeFault({ type: "hang", phase: "during" }))).toBe(true)
    expect(Faults.decodeRates({ statusRates: { "502": 0.5 }, seed: 1 })).toEqual(
      Either.right({ statusRates: { "502": 0.5 }, seed: 1 })
    )
    expect(Either.isLeft(Faults.decodeRates({ resetRate: "often" }))).toBe(true)
    expect(Either.isLeft(Faults.decodeRates({ hangRat: 0.1 }))).toBe(true)
    expect(Either.isLeft(Faults.decodeFault({ type: "hang", times: 2 }))).toBe(true)
  })

  describe("outage", () => {
    it("gives every request the outage's fault until it ends, ahead of scripted faults and rates", () => {
      let now = 1_000
      const faults = Faults.make({ statusRates: { 500: 1 } }, () => now)
      faults.inject({ type: "reset" })
      faults.startOutage({ fault: { type: "status", status: 503, retryAfter: 2 }, ms: 5_000 })
      expect(faults.outage()).toEqual({ fault: { type: "status", status: 503, retryAfter: 2 }, remainingMs: 5_000 })
      expect(draws(faults, 3).map((draw) => draw.fault)).toEqual(
        Array(3).fill({ type: "status", status: 503, retryAfter: 2 })
      )
      now += 4_999
      expect(faults.draw().fault).toEqual({ type: "status", status: 503, retryAfter: 2 })
      now += 1
      expect(faults.outage()).toBeUndefined()
      expect(faults.draw().fault).toEqual({ type: "reset" })
      expect(faults.draw().fault).toEqual({ type: "status", status: 500 })
      expect(faults.injected().status).toEqual({ 503: 4, 500: 1 })
    })

    it("without ms it lasts until ended or reset", () => {
      let now = 0
      const faults = Faults.make({}, () => now)
      faults.startOutage({ fault: { type: "hang" } })
      now += 86_400_000
      expect(faults.outage()).toEqual({ fault: { type: "hang" }, remainingMs: undefined })
      expect(faults.draw().fault).toEqual({ type: "hang" })
      faults.endOutage()
      expect(faults.draw()).toBe(Faults.none)
      faults.startOutage({ fault: { type: "hang" } })
      faults.reset()
      expect(faults.draw()).toBe(Faults.none)
    })

    it("decodes outages strictly", () => {
      expect(Either.isRight(Faults.decodeOutage({ fault: { type: "hang" }, ms: 10 }))).toBe(true)
      expect(Either.isLeft(Faults.decodeOutage({ fault: { type: "hang" }, ms: 0 }))).toBe(true)
      expect(Either.isLeft(Faults.decodeOutage({ fault: { type: "nope" } }))).toBe(true)
      expect(Either.isLeft(Faults.decodeOutage({ fault: { type: "hang" }, extra: 1 }))).toBe(true)
      expect(() => Faults.make().startOutage({ fault: { type: "hang" }, ms: -1 })).toThrow(RangeError)
    })
  })
})

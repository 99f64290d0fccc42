import { describe, expect, it } from "vitest"
import * as RateLimit from "../src/RateLimit.js"
import { manualClock } from "./utils/clock.js"

describe("RateLimit", () => {
  it("admits N requests in each second of the clock, refuses the rest with the seconds until the next", () => {
    const clock = manualClock(Date.UTC(2025, 0, 1))
    const limit = RateLimit.make(3, clock.now)
    clock.advance(200)
    expect([limit.admit(), limit.admit(), limit.admit()]).toEqual([undefined, undefined, undefined])
    expect(limit.admit()).toBe(1)
    clock.advance(799)
    expect(limit.admit()).toBe(1)
    clock.advance(1)
    expect(limit.admit()).toBeUndefined()
    expect(limit.refused()).toBe(2)
  })

  it("is off at 0 and can be changed at run time", () => {
    const clock = manualClock()
    const limit = RateLimit.make(0, clock.now)
    for (let i = 0; i < 1000; i++) expect(limit.admit()).toBeUndefined()
    limit.set(1)
    expect(limit.requestsPerSecond()).toBe(1)
    clock.advance(1000)
    expect(limit.admit()).toBeUndefined()
    expect(limit.admit()).toBe(1)
    limit.set(0)
    expect(limit.admit()).toBeUndefined()
  })

  it("refuses a limit that is not a non-negative integer", () => {
    expect(() => RateLimit.make(-1)).toThrow(RangeError)
    expect(() => RateLimit.make(1.5)).toThrow(RangeError)
    expect(() => RateLimit.make(0).set(Number.NaN)).toThrow(RangeError)
  })
})

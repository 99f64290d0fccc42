/** A clock moved by hand, for `TokenAuthority` and sandbox tests. */
export const manualClock = (start = Date.UTC(2025, 0, 1)) => {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    }
  }
}

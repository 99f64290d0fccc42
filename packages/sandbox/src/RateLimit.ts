/**
 * DDN's global rate limit on the refresh endpoint, as an API gateway in front of it would apply it:
 * at most `requestsPerSecond` refresh requests in each second of the clock (fixed one-second
 * windows), whoever sends them; the rest are answered 429 with `Retry-After` (whole seconds until the
 * window ends, at least 1) before the token is looked at. 0 turns it off (the default).
 *
 * @since 0.1.0
 */

/**
 * A rate limit; see the module documentation.
 *
 * @since 0.1.0
 * @category models
 */
export interface RateLimit {
  /**
   * Counts one request against this second's budget: `undefined` when it may proceed, else the
   * `Retry-After` in seconds to answer it with.
   */
  readonly admit: () => number | undefined
  /** Changes the limit at run time (0 turns it off); the current second's count is kept. */
  readonly set: (requestsPerSecond: number) => void
  /** The limit now; 0 when off. */
  readonly requestsPerSecond: () => number
  /** Requests refused so far. */
  readonly refused: () => number
}

const check = (requestsPerSecond: number): number => {
  if (!Number.isSafeInteger(requestsPerSecond) || requestsPerSecond < 0) {
    throw new RangeError("RateLimit: requestsPerSecond must be a non-negative integer")
  }
  return requestsPerSecond
}

/**
 * Makes a rate limit of `requestsPerSecond` (0: off) on the clock `now` (milliseconds since the epoch).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (requestsPerSecond: number, now: () => number = Date.now): RateLimit => {
  let limit = check(requestsPerSecond)
  let second = Number.NaN
  let used = 0
  let refused = 0
  return {
    admit: () => {
      if (limit === 0) return undefined
      const at = now()
      const current = Math.floor(at / 1000)
      if (current !== second) {
        second = current
        used = 0
      }
      if (used < limit) {
        used += 1
        return undefined
      }
      refused += 1
      return Math.max(1, Math.ceil(((current + 1) * 1000 - at) / 1000))
    },
    set: (next) => {
      limit = check(next)
    },
    requestsPerSecond: () => limit,
    refused: () => refused
  }
}

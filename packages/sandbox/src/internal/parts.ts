/**
 * The pieces of one sandbox that its handlers and its stats share.
 *
 * @internal
 */
import type { Faults } from "../Faults.js"
import type { RateLimit } from "../RateLimit.js"
import type { TokenAuthority } from "../TokenAuthority.js"
import type { Counters } from "./counters.js"
import type { Rotations } from "./rotations.js"

/** The token state, the faults, the rate limit, and what is counted and remembered of the requests. */
export interface Parts {
  readonly authority: TokenAuthority
  readonly faults: Faults
  readonly rateLimit: RateLimit
  readonly counters: Counters
  readonly rotations: Rotations
}

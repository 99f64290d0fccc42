/**
 * The counters the handlers keep, and the `Stats` snapshot they make together with the counts of
 * the other pieces (rotations, connections, rate limit, faults, authority).
 *
 * @internal
 */
import type { Stats } from "../SandboxServer.js"
import type { RejectionReason } from "../TokenAuthority.js"
import type { Parts } from "./parts.js"

/** What the handlers count; see `Stats` for each field. */
export interface Counters {
  refreshRequests: number
  granted: number
  invalidRequests: number
  tooLarge: number
  sessionsMinted: number
  readonly rejected: Record<RejectionReason, number>
}

/** Counters at zero. */
export const make = (): Counters => ({
  refreshRequests: 0,
  granted: 0,
  invalidRequests: 0,
  tooLarge: 0,
  sessionsMinted: 0,
  rejected: { unknown: 0, expired: 0, revoked: 0, reused: 0 }
})

/** The counts now, with the `connections` counts, in the order `GET /sandbox/stats` has always listed them. */
export const snapshot = (
  { counters, rotations, rateLimit, faults, authority }: Parts,
  connections: Stats["connections"]
): Stats => ({
  refreshRequests: counters.refreshRequests,
  granted: counters.granted,
  rotationsLost: rotations.lost(),
  invalidRequests: counters.invalidRequests,
  tooLarge: counters.tooLarge,
  sessionsMinted: counters.sessionsMinted,
  rateLimited: rateLimit.refused(),
  connections,
  rejected: { ...counters.rejected },
  faultsInjected: faults.injected(),
  refreshTokensRemembered: authority.size()
})

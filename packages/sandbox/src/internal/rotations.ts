/**
 * Which rotations never reached their client, for `RunningSandbox.delivery` and `POST /sandbox/inspect`.
 *
 * @internal
 */
import type { RotationDelivery } from "../SandboxServer.js"
import type { TokenAuthority } from "../TokenAuthority.js"

/** How many lost rotations are remembered (oldest forgotten first). */
export const lostRotationsRemembered = 100_000

/** The lost rotations of one sandbox. */
export interface Rotations {
  /** Records that the rotation of `refreshToken` never reached its client. */
  readonly lose: (refreshToken: string) => void
  /** A replay within the reuse interval handed out the same pair: the rotation is found again. */
  readonly found: (refreshToken: string) => void
  /** What became of the rotation of `refreshToken`. */
  readonly delivery: (refreshToken: string) => RotationDelivery
  /** Rotations lost so far, found again or not. */
  readonly lost: () => number
}

/** Tracks the rotations of `authority`'s tokens. */
export const make = (authority: TokenAuthority): Rotations => {
  const lostTokens = new Set<string>()
  let lost = 0
  return {
    lose: (refreshToken) => {
      lost += 1
      lostTokens.add(refreshToken)
      if (lostTokens.size > lostRotationsRemembered) lostTokens.delete(lostTokens.values().next().value!)
    },
    found: (refreshToken) => {
      lostTokens.delete(refreshToken)
    },
    delivery: (refreshToken) =>
      !authority.inspect(refreshToken).spent ? "none" : lostTokens.has(refreshToken) ? "lost" : "delivered",
    lost: () => lost
  }
}

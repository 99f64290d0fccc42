/** @internal */
import * as DateTime from "effect/DateTime"
import * as Redacted from "effect/Redacted"
import { TokenGrant } from "../TokenGrant.js"

/**
 * A grant as kept in a reuse window: flat strings and numbers. `Redacted` values live in a
 * process-wide `WeakMap`, which would cost more than the tokens themselves at 100,000 entries.
 */
export interface KeptGrant {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
  readonly tokenType: string
  readonly expiresAtMillis: number
}

/** The grant, flattened for keeping. */
export const keep = (grant: TokenGrant): KeptGrant => ({
  accessToken: Redacted.value(grant.accessToken),
  refreshToken: Redacted.value(grant.refreshToken),
  expiresIn: grant.expiresIn,
  tokenType: grant.tokenType,
  expiresAtMillis: DateTime.toEpochMillis(grant.expiresAt)
})

/** The kept grant as a `TokenGrant` again. */
export const restore = (kept: KeptGrant): TokenGrant =>
  new TokenGrant(
    {
      accessToken: Redacted.make(kept.accessToken),
      refreshToken: Redacted.make(kept.refreshToken),
      expiresIn: kept.expiresIn,
      tokenType: kept.tokenType,
      expiresAt: DateTime.unsafeMake(kept.expiresAtMillis)
    },
    true
  )

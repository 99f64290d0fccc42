/**
 * A refreshed token pair, as the rest of the program sees it: both tokens `Redacted`, and an
 * absolute `expiresAt` computed from this process's `Clock`, so a skewed upstream clock cannot
 * make a token look valid for longer than it is.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/** A token as it travels on the wire: a non-empty string, kept `Redacted` once decoded. */
const WireToken = Schema.Redacted(Schema.NonEmptyString)

/**
 * The documented 200 body of `POST /gateway/auth/refresh`. Decoding it is the only way a grant
 * enters the program; anything else is an `UpstreamBadResponse`.
 *
 * @since 0.1.0
 * @category models
 */
export const RefreshResponseBody = Schema.Struct({
  accessToken: WireToken,
  refreshToken: WireToken,
  expiresIn: Schema.Int.pipe(Schema.nonNegative()),
  tokenType: Schema.NonEmptyString
})
/**
 * @see RefreshResponseBody
 *
 * @since 0.1.0
 * @category models
 */
export type RefreshResponseBody = typeof RefreshResponseBody.Type

/**
 * A token pair with its absolute expiry. Encodes to plain JSON (tokens in clear) only through `Schema.encode`.
 *
 * @since 0.1.0
 * @category models
 */
export class TokenGrant extends Schema.Class<TokenGrant>("TokenGrant")({
  accessToken: WireToken,
  refreshToken: WireToken,
  /** Lifetime of the access token in seconds, as the upstream stated it. */
  expiresIn: Schema.Int.pipe(Schema.nonNegative()),
  /** Usually `"Bearer"`. */
  tokenType: Schema.NonEmptyString,
  /** When the access token expires: arrival time on this process's `Clock` + `expiresIn`. */
  expiresAt: Schema.DateTimeUtc
}) {
  /** Builds a grant from a decoded body and the `Clock` time (epoch ms) the response arrived. */
  static fromResponse(body: RefreshResponseBody, receivedAtMillis: number): TokenGrant {
    // The body was just decoded with the same field schemas: no need to validate it twice.
    return new TokenGrant({ ...body, expiresAt: DateTime.unsafeMake(receivedAtMillis + body.expiresIn * 1000) }, true)
  }

  /** Time left before the access token expires, at `nowMillis`; zero once expired. */
  remaining(nowMillis: number): Duration.Duration {
    return Duration.millis(Math.max(0, DateTime.toEpochMillis(this.expiresAt) - nowMillis))
  }
}

/** @internal */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/**
 * Reads a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date taken relative
 * to `nowMillis`. A date in the past means "now"; anything unparseable is ignored.
 */
export const parseRetryAfter = (header: string | undefined, nowMillis: number): Option.Option<Duration.Duration> => {
  if (header === undefined) return Option.none()
  const value = header.trim()
  if (/^\d+$/.test(value)) return Option.some(Duration.seconds(Number(value)))
  const date = Date.parse(value)
  return Number.isNaN(date) ? Option.none() : Option.some(Duration.millis(Math.max(0, date - nowMillis)))
}

/**
 * How the core reads its environment variables, as Effect `Config`s that other programs (the
 * gateway) compose for their own variables. A variable that is unset is `MissingData` (so
 * `Config.withDefault` applies); one that is set must hold a good value: a blank one is refused
 * rather than taken as "unset", and every refusal is an `InvalidData` naming the variable, with a
 * message that never repeats a value that could be secret.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"

/**
 * The variable `name`, trimmed and parsed: blank is refused, and `parse` either returns the value or
 * the reason it is refused. Effect puts the variable's name on the error, since the check runs right
 * on top of the named primitive.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parsed = <A>(name: string, parse: (value: string) => Either.Either<A, string>): Config.Config<A> =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) => {
      const value = raw.trim()
      return Either.mapLeft(
        value === "" ? Either.left("must not be empty (unset it to use the default)") : parse(value),
        (message) => ConfigError.InvalidData([], message)
      )
    })
  )

/**
 * Quotes a value in an error message, cut at 64 characters. Only for values that cannot be secret.
 *
 * @since 0.1.0
 * @category utils
 */
export const shown = (raw: string): string => JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw)

/**
 * The check behind {@link integer}, for a variable that takes more than an integer (e.g. `0` or a
 * range, or `off`): an integer from `min` to `max` in decimal digits only, refused as
 * `expected <expected>, got "<value>"`.
 *
 * @since 0.2.0
 * @category utils
 */
export const parseInteger =
  (min: number, max: number, expected = `an integer from ${min} to ${max}`) =>
  (raw: string): Either.Either<number, string> =>
    /^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max
      ? Either.right(Number(raw))
      : Either.left(`expected ${expected}, got ${shown(raw)}`)

/**
 * An integer from `min` to `max`, written in decimal digits only.
 *
 * @since 0.1.0
 * @category constructors
 */
export const integer = (name: string, min: number, max: number): Config.Config<number> =>
  parsed(name, parseInteger(min, max))

/**
 * A whole number of milliseconds from `min` to `max`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const millis = (name: string, min: number, max: number): Config.Config<Duration.Duration> =>
  parsed(name, (raw) =>
    Either.map(parseInteger(min, max, `an integer of milliseconds from ${min} to ${max}`)(raw), Duration.millis)
  )

/**
 * A URL with one of `protocols` (e.g. `["http:", "https:"]`), and whatever else `check` asks of it.
 * The value is never echoed: a URL may carry credentials.
 *
 * @since 0.1.0
 * @category constructors
 */
export const url = (
  name: string,
  protocols: ReadonlyArray<string>,
  check: (url: URL) => string | undefined = () => undefined
): Config.Config<URL> => {
  const expected = `expected a ${protocols.map((protocol) => `${protocol}//`).join(" or ")} URL`
  return parsed(name, (raw) => {
    if (!URL.canParse(raw)) return Either.left(`${expected}, got something that is not a URL`)
    const url = new URL(raw)
    if (!protocols.includes(url.protocol)) return Either.left(`${expected}, got a ${url.protocol} URL`)
    const problem = check(url)
    return problem === undefined ? Either.right(url) : Either.left(problem)
  })
}

/**
 * A secret of at least `minLength` characters, `Redacted` from the moment it is read; never echoed.
 *
 * @since 0.1.0
 * @category constructors
 */
export const secret = (name: string, minLength: number): Config.Config<Redacted.Redacted<string>> =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) =>
      raw.length >= minLength && raw.trim() === raw
        ? Either.right(Redacted.make(raw))
        : Either.left(
            ConfigError.InvalidData(
              [],
              raw.trim() === ""
                ? "must not be empty"
                : raw.trim() !== raw
                  ? "must not begin or end with white space"
                  : `must be at least ${minLength} characters long (got ${raw.length})`
            )
          )
    )
  )

/**
 * A warning for a condition that may recur on every request: logged at most once per interval.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"

/** An effect that logs `message` as a warning, unless it did less than `interval` ago (by `Clock`). */
export const make = (
  message: string,
  interval: Duration.DurationInput = Duration.minutes(1)
): Effect.Effect<Effect.Effect<void>> =>
  Effect.map(Ref.make(Number.NEGATIVE_INFINITY), (lastWarning) => {
    const intervalMillis = Duration.toMillis(interval)
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(
        Ref.modify(lastWarning, (last) => (now - last >= intervalMillis ? [true, now] : [false, last])),
        (warn) => (warn ? Effect.logWarning(message) : Effect.void)
      )
    )
  })

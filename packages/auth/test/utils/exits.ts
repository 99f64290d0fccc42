import * as Exit from "effect/Exit"
import * as Predicate from "effect/Predicate"

/** The typed error an `Exit` failed with; throws (failing the test) for a success, a defect or an interruption. */
export const failure = <E>(exit: Exit.Exit<unknown, E>): E => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a typed failure, got ${String(exit)}`)
}

/** The `_tag` of the typed error an `Exit` failed with, or a description of what it was instead. */
export const failureTag = (exit: Exit.Exit<unknown, unknown>): string => {
  if (!Exit.isFailure(exit) || exit.cause._tag !== "Fail") return `not a typed failure: ${String(exit)}`
  const error = exit.cause.error
  return Predicate.hasProperty(error, "_tag") && typeof error._tag === "string"
    ? error._tag
    : `an untagged failure: ${String(error)}`
}

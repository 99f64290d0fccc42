/** @internal */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import type * as Scope from "effect/Scope"

/** Runs one effect per key at a time; see {@link make}. */
export interface SingleFlight<A, E> {
  /**
   * Runs `run` for `key`, or joins the run of `key` already in flight. `joined` tells the two apart.
   * A run is forked into the scope given to {@link make}: it goes on when every caller has gone away.
   */
  readonly run: (
    key: string,
    run: Effect.Effect<A, E>
  ) => Effect.Effect<{ readonly value: A; readonly joined: boolean }, E>
  /** How many keys are in flight. */
  readonly size: () => number
}

/**
 * Single-flight over string keys: concurrent callers of one key share one run and its outcome. The key
 * is registered before anything yields, so every later caller finds the run; it is removed once the
 * run's outcome is known, before any caller resumes.
 */
export const make = <A, E>(scope: Scope.Scope): SingleFlight<A, E> => {
  const inFlight = new Map<string, Deferred.Deferred<A, E>>()
  return {
    run: (key, run) =>
      Effect.suspend(() => {
        const shared = inFlight.get(key)
        if (shared !== undefined) return Effect.map(Deferred.await(shared), (value) => ({ value, joined: true }))
        const deferred = Deferred.unsafeMake<A, E>(FiberId.none)
        inFlight.set(key, deferred)
        const settle = Effect.flatMap(Effect.exit(run), (exit) => {
          inFlight.delete(key)
          return Deferred.done(deferred, exit)
        })
        return Effect.zipRight(
          Effect.forkIn(settle, scope),
          Effect.map(Deferred.await(deferred), (value) => ({ value, joined: false }))
        )
      }),
    size: () => inFlight.size
  }
}

import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"

/**
 * `self` within `millis` on the `Clock`: its own outcome, or a failure with `onTimeout()` once the
 * time is up, `self` then being interrupted (which aborts an HTTP request in flight).
 *
 * The contract of `Effect.timeoutFail`, at about half its cost on the refresh path (measured in
 * `test/bench/RESULTS.md`): `Effect.timeoutFail` races two forked fibers, `self` and a sleeper, and
 * merges the winner's FiberRefs back; here `self` is the only fork, the sleep runs on the `Clock`
 * service in a detached fiber of its own (no FiberRefs to copy), and nothing is merged back, as
 * nothing `self` sets in FiberRefs is needed afterwards. Interrupting the caller interrupts both.
 */
export const attemptTimeout = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  millis: number,
  onTimeout: () => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.clockWith((clock) =>
    Effect.flatMap(Effect.fork(self), (attempt) =>
      Effect.async<A, E | E2>((resume) => {
        let settled = false
        const timer = Effect.runFork(clock.sleep(Duration.millis(millis)))
        timer.addObserver((exit) => {
          if (settled || Exit.isFailure(exit)) return
          settled = true
          attempt.unsafeInterruptAsFork(FiberId.none)
          resume(Effect.fail(onTimeout()))
        })
        attempt.addObserver((exit) => {
          if (settled) return
          settled = true
          timer.unsafeInterruptAsFork(FiberId.none)
          resume(exit)
        })
        return Effect.sync(() => {
          settled = true
          timer.unsafeInterruptAsFork(FiberId.none)
          attempt.unsafeInterruptAsFork(FiberId.none)
        })
      })
    )
  )

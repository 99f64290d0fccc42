import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as SubscriptionRef from "effect/SubscriptionRef"
import type { CoordinationStore } from "../../src/internal/coordinationStore.js"
import { RedisUnavailable } from "../../src/redis/RedisConnection.js"

/**
 * The coordination store's semantics in memory, on the `Clock`: leases and outcomes expire when a
 * `TestClock` passes their TTL. `down` makes every command fail as an unreachable Redis would.
 */
export const make = Effect.gen(function* () {
  const leases = new Map<string, { holder: string; until: number }>()
  const outcomes = new Map<string, { value: string; until: number }>()
  const watchers = new Map<string, Set<Deferred.Deferred<void>>>()
  const healthy = yield* SubscriptionRef.make(true)
  const state: {
    down: boolean
    commands: number
    settleGate: Deferred.Deferred<void> | undefined
    /** Runs before each claim, with how many came before: to change the store between two of them. */
    beforeClaim: ((claims: number) => void) | undefined
  } = { down: false, commands: 0, settleGate: undefined, beforeClaim: undefined }
  let claims = 0

  const live = <V extends { until: number }>(map: Map<string, V>, key: string, now: number) => {
    const entry = map.get(key)
    if (entry !== undefined && entry.until <= now) map.delete(key)
    return entry !== undefined && entry.until > now ? entry : undefined
  }
  const command = <A>(body: (now: number) => A) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      state.commands += 1
      // As the real connection does, a failed command marks the store unhealthy.
      return state.down
        ? Effect.zipRight(
            SubscriptionRef.set(healthy, false),
            Effect.fail(new RedisUnavailable({ reason: "Disconnected" }))
          )
        : Effect.sync(() => body(now))
    })

  const store: CoordinationStore = {
    claim: (key, holder, leaseMillis, seen) =>
      command((now) => {
        state.beforeClaim?.(claims++)
        const found = live(outcomes, key, now)
        const kept = found?.value === seen ? undefined : found
        const lease = live(leases, key, now)
        if (kept !== undefined) return { _tag: "Kept" as const, outcome: kept.value, holder: lease?.holder }
        if (lease === undefined) {
          leases.set(key, { holder, until: now + leaseMillis })
          return { _tag: "Acquired" as const }
        }
        return { _tag: "Held" as const, holder: lease.holder }
      }),
    peek: (key) =>
      command((now) => ({ outcome: live(outcomes, key, now)?.value, holder: live(leases, key, now)?.holder })),
    renew: (held, leaseMillis) =>
      command((now) => {
        for (const [key, holder] of held) {
          const lease = live(leases, key, now)
          if (lease?.holder === holder) lease.until = now + leaseMillis
        }
      }),
    settle: (key, holder, value, ttlMillis) =>
      Effect.zipRight(
        state.settleGate === undefined ? Effect.void : Deferred.await(state.settleGate),
        command((now) => {
          outcomes.set(key, { value, until: now + ttlMillis })
          if (live(leases, key, now)?.holder === holder) leases.delete(key)
          for (const watcher of watchers.get(key) ?? []) Deferred.unsafeDone(watcher, Exit.void)
        })
      ),
    restore: (restored, held, leaseMillis) =>
      command((now) => {
        for (const [key, value, ttlMillis] of restored) {
          if (live(outcomes, key, now) === undefined) outcomes.set(key, { value, until: now + ttlMillis })
        }
        for (const [key, holder] of held) {
          if (live(leases, key, now) === undefined) leases.set(key, { holder, until: now + leaseMillis })
        }
      }),
    release: (key, holder) =>
      command((now) => {
        if (live(leases, key, now)?.holder === holder) leases.delete(key)
      }),
    watch: (key) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const watcher = Deferred.unsafeMake<void>(FiberId.none)
          watchers.set(key, (watchers.get(key) ?? new Set()).add(watcher))
          return watcher
        }),
        (watcher) => Effect.sync(() => watchers.get(key)?.delete(watcher))
      ).pipe(Effect.map(Deferred.await)),
    healthy
  }

  return {
    store,
    state,
    leases,
    outcomes,
    /** Takes Redis away (or brings it back), as the connection would report it. */
    setDown: (down: boolean) =>
      Effect.zipRight(
        Effect.sync(() => {
          state.down = down
        }),
        SubscriptionRef.set(healthy, !down)
      )
  }
})

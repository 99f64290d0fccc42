/**
 * Measures what the reuse window's default bound costs: the heap held by a `RefreshCoordinator` with
 * 100,000 kept grants of realistic size (JWT access tokens of ~300 characters, 43-character refresh
 * tokens), against the same process before any refresh.
 *
 *   pnpm exec tsx --expose-gc test/bench/reuse-window-memory.ts [entries]
 */
import { randomBytes } from "node:crypto"
import { DdnAuthClient, RefreshCoordinator, TokenGrant } from "@ddn/auth"
import { DateTime, Effect, Layer, Redacted } from "effect"

const entries = Number(process.argv[2] ?? RefreshCoordinator.defaults.maxEntries)
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error("run with --expose-gc")

const jwtLike = () =>
  `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${randomBytes(150).toString("base64url")}.${randomBytes(32).toString("base64url")}`

const upstream = Layer.succeed(
  DdnAuthClient.DdnAuthClient,
  DdnAuthClient.DdnAuthClient.of({
    upstream: Effect.succeed(DdnAuthClient.idleUpstream),
    refresh: () =>
      Effect.succeed(
        new TokenGrant.TokenGrant({
          accessToken: Redacted.make(jwtLike()),
          refreshToken: Redacted.make(randomBytes(32).toString("base64url")),
          expiresIn: 3600,
          tokenType: "Bearer",
          expiresAt: DateTime.unsafeMake(Date.now() + 3_600_000)
        })
      )
  })
)

const heapMiB = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed / 2 ** 20
}

const program = Effect.gen(function* () {
  const coordinator = yield* RefreshCoordinator.RefreshCoordinator
  const tokens = Array.from({ length: entries }, () => Redacted.make(randomBytes(32).toString("base64url")))
  const before = heapMiB()
  for (const token of tokens) yield* coordinator.refresh(token)
  const after = heapMiB()
  const perEntry = ((after - before) * 2 ** 20) / entries
  console.log(
    `${entries} kept grants: ${(after - before).toFixed(1)} MiB of heap (${perEntry.toFixed(0)} bytes per entry)`
  )
}).pipe(Effect.provide(RefreshCoordinator.layerMemory({ reuseWindow: "1 hour" }).pipe(Layer.provide(upstream))))

Effect.runPromise(program)

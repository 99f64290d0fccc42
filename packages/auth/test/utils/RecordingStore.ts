import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as TokenStore from "../../src/TokenStore.js"

/**
 * A memory store that records every save (refresh tokens in clear, for assertions) and can be told
 * to fail its saves, as a full disk would.
 */
export const makeRecordingStore = (initial?: TokenStore.StoredSession) =>
  Effect.gen(function* () {
    const inner = yield* TokenStore.makeMemory(initial)
    const saved: Array<string> = []
    let failSaves = false
    const service = TokenStore.TokenStore.of({
      load: inner.load,
      save: (session) =>
        failSaves
          ? Effect.fail(new TokenStore.TokenStoreError({ reason: "WriteFailed", detail: "NoSpace (write)" }))
          : Effect.zipRight(
              inner.save(session),
              Effect.sync(() => saved.push(Redacted.value(session.refreshToken)))
            )
    })
    return {
      service,
      /** Refresh tokens saved so far, oldest first. */
      saved: (): ReadonlyArray<string> => saved,
      setFailSaves: (fail: boolean) => {
        failSaves = fail
      },
      /** The refresh token the store holds now, in clear. */
      current: Effect.map(inner.load, (session) =>
        session._tag === "Some" ? Redacted.value(session.value.refreshToken) : undefined
      )
    }
  })

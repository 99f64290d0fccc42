import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { DdnAuthClient, idleUpstream, type Service } from "../../src/DdnAuthClient.js"
import { type RefreshError, RefreshTokenExpired } from "../../src/RefreshError.js"
import { TokenGrant } from "../../src/TokenGrant.js"

/** Every token the fake issues contains this marker, so a test can prove none leaked into a string. */
export const secretMarker = "SECRET"

/**
 * A fake DDN that rotates like the real one: each refresh token is single-use, a refresh issues a new
 * pair whose `expiresAt` comes from the `Clock`, and a spent or unknown token gets `RefreshTokenExpired`.
 * Counts refresh calls; can hold refreshes on a gate, fail the next ones, and tell a fake API which
 * access tokens are valid.
 */
export const makeFakeDdn = (options: { readonly expiresIn?: number | undefined } = {}) => {
  const expiresIn = options.expiresIn ?? 3600
  const liveRefreshTokens = new Set<string>()
  const validAccessTokens = new Set<string>()
  const issuedTokens: Array<string> = []
  const scriptedFailures: Array<RefreshError> = []
  let issued = 0
  let calls = 0
  let running = 0
  let gate: Deferred.Deferred<void> | undefined

  const issue = (nowMillis: number): TokenGrant => {
    issued += 1
    const accessToken = `${secretMarker}-access-${issued}`
    const refreshToken = `${secretMarker}-refresh-${issued}`
    liveRefreshTokens.add(refreshToken)
    validAccessTokens.add(accessToken)
    issuedTokens.push(accessToken, refreshToken)
    return TokenGrant.fromResponse(
      {
        accessToken: Redacted.make(accessToken),
        refreshToken: Redacted.make(refreshToken),
        expiresIn,
        tokenType: "Bearer"
      },
      nowMillis
    )
  }

  /** Spends `refreshToken` as DDN would: a new grant, or `undefined` when it is spent or unknown. */
  const spend = (refreshToken: string, nowMillis: number): TokenGrant | undefined => {
    if (!liveRefreshTokens.delete(refreshToken)) return undefined
    return issue(nowMillis)
  }

  const client: Service = {
    upstream: Effect.succeed(idleUpstream),
    refresh: (refreshToken) =>
      Effect.gen(function* () {
        calls += 1
        running += 1
        const scripted = scriptedFailures.shift()
        if (scripted !== undefined) return yield* Effect.fail(scripted)
        const now = yield* Clock.currentTimeMillis
        const grant = spend(Redacted.value(refreshToken), now)
        if (grant === undefined) return yield* new RefreshTokenExpired()
        if (gate !== undefined) yield* Deferred.await(gate)
        return grant
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            running -= 1
          })
        )
      )
  }

  return {
    client,
    layer: Layer.succeed(DdnAuthClient, client),
    /** Starts a session, as a sign-in would. */
    mint: (nowMillis = 0) => issue(nowMillis),
    /** Rotates `refreshToken` outside the session under test, as another process would. */
    rotateElsewhere: (refreshToken: Redacted.Redacted<string>, nowMillis = 0) => {
      const grant = spend(Redacted.value(refreshToken), nowMillis)
      if (grant === undefined) throw new Error("rotateElsewhere: the token is not live")
      return grant
    },
    /** Refresh calls so far, failed ones included. */
    calls: () => calls,
    /** Refresh calls not ended yet: answered, failed or interrupted. */
    running: () => running,
    /** Tokens issued so far, access and refresh. */
    issuedTokens: (): ReadonlyArray<string> => issuedTokens,
    isValidAccessToken: (token: string) => validAccessTokens.has(token),
    /** Makes the API refuse `token` from now on, as after a server-side revocation. */
    revokeAccessToken: (token: Redacted.Redacted<string>) => validAccessTokens.delete(Redacted.value(token)),
    /** Holds every refresh after it has spent the token, until the returned deferred is completed. */
    holdRefreshes: () =>
      Effect.map(Deferred.make<void>(), (deferred) => {
        gate = deferred
        return deferred
      }),
    /** Fails the next refreshes with `errors`, in order, without spending the token. */
    failNext: (...errors: ReadonlyArray<RefreshError>) => {
      scriptedFailures.push(...errors)
    }
  }
}

/** @see makeFakeDdn */
export type FakeDdn = ReturnType<typeof makeFakeDdn>

import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type { FakeDdn } from "./FakeDdn.js"

/** One request the fake API received. */
export interface ApiCall {
  readonly url: string
  readonly authorization: string | undefined
}

/**
 * A fake DDN API behind bearer tokens, as an `HttpClient`: 200 `{"sub":"user-1"}` when the request
 * carries an access token `ddn` considers valid, else 401. `refuseAll` makes every answer a 401;
 * `holdFirst(n)` holds the first `n` answers until all `n` requests have arrived.
 */
export const makeFakeApi = (ddn: FakeDdn) => {
  const calls: Array<ApiCall> = []
  let refuseAll = false
  let barrier: { readonly size: number; readonly open: Deferred.Deferred<void> } | undefined

  const answer = (request: HttpClientRequest.HttpClientRequest, authorization: string | undefined) => {
    const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1]
    const ok = !refuseAll && token !== undefined && ddn.isValidAccessToken(token)
    const body = ok ? { sub: "user-1" } : { error: "invalid_token" }
    return HttpClientResponse.fromWeb(
      request,
      new Response(JSON.stringify(body), { status: ok ? 200 : 401, headers: { "content-type": "application/json" } })
    )
  }

  const client = HttpClient.make((request, url) =>
    Effect.gen(function* () {
      const authorization = request.headers.authorization
      calls.push({ url: url.href, authorization })
      const held = barrier
      if (held !== undefined && calls.length <= held.size) {
        if (calls.length === held.size) yield* Deferred.succeed(held.open, undefined)
        yield* Deferred.await(held.open)
      }
      return answer(request, authorization)
    })
  )

  return {
    client,
    calls: (): ReadonlyArray<ApiCall> => calls,
    refuseAll: (refuse: boolean) => {
      refuseAll = refuse
    },
    holdFirst: (size: number) =>
      Effect.map(Deferred.make<void>(), (open) => {
        barrier = { size, open }
      })
  }
}

import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** What the mocked upstream does on one attempt. */
export type Step =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Record<string, string> }
  | { readonly raw: string; readonly status?: number }
  | "refused"
  | "reset"
  | "hang"

/** One request the mocked upstream received. */
export interface Call {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: unknown
  readonly signal: AbortSignal
}

const systemError = (code: string) => Object.assign(new Error(code), { code })

/**
 * A scripted `HttpClient` for unit tests: attempt N gets `steps[N]` (the last step repeats).
 * Records every call, its decoded JSON body and its abort signal.
 */
export const mockUpstream = (...steps: ReadonlyArray<Step>) => {
  const calls: Array<Call> = []
  const client = HttpClient.make((request, url, signal) =>
    Effect.suspend(() => {
      const body =
        request.body._tag === "Uint8Array" ? JSON.parse(new TextDecoder().decode(request.body.body)) : undefined
      calls.push({ method: request.method, url: url.href, headers: { ...request.headers }, body, signal })
      const step = steps[Math.min(calls.length - 1, steps.length - 1)]!
      if (step === "refused" || step === "reset") {
        const cause = { cause: systemError(step === "refused" ? "ECONNREFUSED" : "ECONNRESET") }
        return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
      }
      if (step === "hang") return Effect.never
      const response =
        "raw" in step
          ? new Response(step.raw, { status: step.status ?? 200, headers: { "content-type": "application/json" } })
          : new Response(step.body === undefined ? null : JSON.stringify(step.body), {
              status: step.status,
              headers: { "content-type": "application/json", ...step.headers }
            })
      return Effect.succeed(HttpClientResponse.fromWeb(request, response))
    })
  )
  return { calls, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

/** A well-formed 200 body. */
export const grantBody = (n = 1) => ({
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresIn: 3600,
  tokenType: "Bearer"
})

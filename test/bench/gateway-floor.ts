/**
 * The gateway with its core swapped out, to find the floor under `pnpm bench`'s part 1: everything
 * the gateway does around a refresh (HTTP server, body limit, yoga, hardening plugins, request logs,
 * metrics) is the real thing from `dist`; the refresh itself (`decorateRefresh`) is only
 *
 * - `FLOOR=undici`: one bare undici request to the upstream (no timeout, retry, coordination), or
 * - `FLOOR=httpclient`: one bare `HttpClient.execute` of `@effect/platform` over the same undici
 *   (`NodeHttpClient.layerUndici`, tracing off as in the gateway), the service `@ddn/auth` must
 *   build on — still without timeout, retry, deadline or coordination.
 *
 * The answer is a real `TokenGrant` either way. Compared with the minimal proxy it tells how far
 * the 0.8× target can be reached at all with a given HTTP layer underneath, e.g.
 *
 *   node --import tsx test/bench/compare-gateways.ts --b-env FLOOR=httpclient \
 *     --a test/bench/minimal-proxy.ts --a-args="--import tsx --max-semi-space-size=64" \
 *     --b test/bench/gateway-floor.ts --b-args="--import tsx --max-semi-space-size=64"
 *
 * A measuring tool, not a server to run: no retries, no deadline, no single-flight.
 */
import { TokenGrant } from "@ddn/auth"
import { Gateway, GatewayConfig } from "@ddn/gateway"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { NodeHttpClient } from "@effect/platform-node"
import Undici from "@effect/platform-node/Undici"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"

interface Body {
  readonly accessToken: string
  readonly refreshToken: string
  readonly expiresIn: number
  readonly tokenType: string
}

const grantOf = (body: Body) =>
  TokenGrant.TokenGrant.fromResponse(
    { ...body, accessToken: Redacted.make(body.accessToken), refreshToken: Redacted.make(body.refreshToken) },
    Date.now()
  )

const config = Either.getOrThrowWith(GatewayConfig.fromEnv(process.env), (line) => new Error(line))
const refreshUrl = `${process.env.DDN_API_URL}/gateway/auth/refresh`
const floor = process.env.FLOOR ?? "undici"

const refreshWith = async (): Promise<(token: Redacted.Redacted<string>) => Effect.Effect<TokenGrant.TokenGrant>> => {
  if (floor === "undici") {
    const dispatcher = new Undici.Agent()
    return (token) =>
      Effect.promise(async () => {
        const response = await Undici.request(refreshUrl, {
          method: "POST",
          dispatcher,
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({ refreshToken: Redacted.value(token) })
        })
        return grantOf((await response.body.json()) as Body)
      })
  }
  if (floor === "httpclient") {
    const runtime = ManagedRuntime.make(Layer.merge(NodeHttpClient.layerUndici, Layer.setTracerEnabled(false)))
    const client = await runtime.runPromise(HttpClient.HttpClient)
    const request = HttpClientRequest.post(refreshUrl, { acceptJson: true })
    return (token) =>
      client.execute(HttpClientRequest.bodyUnsafeJson(request, { refreshToken: Redacted.value(token) })).pipe(
        Effect.flatMap((response) => response.json),
        Effect.map((body) => grantOf(body as Body)),
        Effect.orDie
      )
  }
  throw new Error(`FLOOR must be undici or httpclient, not ${floor}`)
}

const refresh = await refreshWith()
const gateway = await Gateway.start(config, {
  decorateRefresh: () => ({
    coordinate: (token) => Effect.map(refresh(token), (grant) => ({ grant, source: "upstream" }))
  })
})
process.stdout.write(`Gateway listening on ${gateway.url} (floor: ${floor})\n`)

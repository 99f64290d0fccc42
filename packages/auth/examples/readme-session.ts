import { AuthorizedHttpClient, TokenSession, TokenStore } from "@ddn/auth"
import { DdnAuthNode } from "@ddn/auth/node"
import * as HttpClient from "@effect/platform/HttpClient"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer } from "effect"

// DDN_API_URL=https://… DDN_REFRESH_TOKEN=<the refresh token your sign-in returned> node app.js
// The first run hands the sign-in's refresh token to the file store; each rotation rewrites the file,
// so later runs need only DDN_API_URL and carry on from it.
const Store = Layer.unwrapEffect(
  Effect.map(Config.option(Config.redacted("DDN_REFRESH_TOKEN")), (signIn) =>
    DdnAuthNode.layerFileStore("ddn-session.json").pipe(TokenStore.layerSeeded(signIn))
  )
)
const Session = TokenSession.layer({ backgroundRefresh: true }).pipe(Layer.provide([DdnAuthNode.layer, Store]))
// Every HttpClient request of the program carries `Authorization: Bearer <fresh token>`; a 401 refreshes and retries once.
const Api = AuthorizedHttpClient.layer.pipe(Layer.provideMerge(Session), Layer.provide(NodeHttpClient.layerUndici))

const program = Effect.gen(function* () {
  const apiUrl = yield* Config.string("DDN_API_URL")
  const client = yield* HttpClient.HttpClient
  const response = yield* client.get(`${apiUrl}/sandbox/whoami`) // the sandbox's protected route: use your API's
  yield* Effect.log(`whoami: ${response.status} ${yield* response.text}`)
})

program.pipe(Effect.provide(Api), NodeRuntime.runMain)

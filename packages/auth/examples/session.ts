/**
 * A DDN session in an Effect program: the refresh token lives in a file (mode 0600), a background
 * fiber keeps the access token fresh, and every API call carries it, with one refresh-and-retry on 401.
 *
 * Against the sandbox (`pnpm sandbox` prints its URL; `curl -X POST <url>/sandbox/sessions` mints a
 * session), from the repository root:
 *
 *     DDN_API_URL=<url> DDN_REFRESH_TOKEN=<refresh token> \
 *       pnpm exec tsx --conditions=@ddn/source packages/auth/examples/session.ts
 *
 * The first run saves the refresh token to `ddn-session.json`; later runs need only `DDN_API_URL` and
 * carry on from the file, whose refresh token rotates on every refresh.
 */
import { fileURLToPath } from "node:url"
import { AuthorizedHttpClient, TokenSession, TokenStore } from "@ddn/auth"
import { DdnAuthNode } from "@ddn/auth/node"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Config, Effect, Layer, Option, type Redacted, Schema, Stream } from "effect"

/** What the example needs to know. */
export interface ExampleOptions {
  readonly apiUrl: string
  readonly sessionFile: string
  /** A refresh token from a sign-in, saved to the file when the file holds no session yet. */
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
}

const Whoami = Schema.Struct({ sub: Schema.String })

/** Calls the sandbox's protected `GET /sandbox/whoami` twice, logging the session's events meanwhile. */
export const program = (apiUrl: string) =>
  Effect.gen(function* () {
    const session = yield* TokenSession.TokenSession
    yield* Effect.forkScoped(Stream.runForEach(session.changes, (event) => Effect.logInfo(`session: ${event._tag}`)))

    const client = yield* HttpClient.HttpClient
    for (const call of [1, 2]) {
      const me = yield* client
        .get(`${apiUrl}/sandbox/whoami`)
        .pipe(
          Effect.flatMap(HttpClientResponse.filterStatusOk),
          Effect.flatMap(HttpClientResponse.schemaBodyJson(Whoami))
        )
      yield* Effect.logInfo(`call ${call}: signed in as ${me.sub}`)
    }
  })

/** Saves a signed-in refresh token to the store, unless the store already holds a session. */
const handOverSignIn = (refreshToken: Option.Option<Redacted.Redacted<string>>) =>
  Effect.gen(function* () {
    const store = yield* TokenStore.TokenStore
    if (Option.isSome(refreshToken) && Option.isNone(yield* store.load)) {
      yield* store.save(new TokenStore.RefreshTokenOnly({ refreshToken: refreshToken.value }))
    }
  })

/** The DDN client, the file store, the session with its background refresher, and the authorized `HttpClient`. */
export const layer = (options: ExampleOptions) => {
  const SessionFile = Layer.effectDiscard(handOverSignIn(options.refreshToken)).pipe(
    Layer.provideMerge(DdnAuthNode.layerFileStore(options.sessionFile))
  )
  const Session = TokenSession.layer({ backgroundRefresh: true }).pipe(
    Layer.provide([DdnAuthNode.layerOptions({ apiUrl: options.apiUrl }), SessionFile])
  )
  return AuthorizedHttpClient.layer.pipe(Layer.provideMerge(Session), Layer.provide(NodeHttpClient.layerUndici))
}

/** `program` with its settings from `DDN_API_URL`, `DDN_SESSION_FILE` (default `ddn-session.json`) and `DDN_REFRESH_TOKEN`. */
export const main = Effect.gen(function* () {
  const options = yield* Config.all({
    apiUrl: Config.string("DDN_API_URL"),
    sessionFile: Config.withDefault(Config.string("DDN_SESSION_FILE"), "ddn-session.json"),
    refreshToken: Config.option(Config.redacted("DDN_REFRESH_TOKEN"))
  })
  yield* Effect.scoped(program(options.apiUrl)).pipe(Effect.provide(layer(options)))
})

if (process.argv[1] === fileURLToPath(import.meta.url)) NodeRuntime.runMain(main)

/**
 * The graphql-yoga instance serving `/graphql`: the schema, the hardening plugins, yoga's parse and
 * validation caches (on by default), errors masked without detail and rewritten so that none echoes
 * the request (`NoEcho`), and GraphiQL (served from this server, see `GraphiQL.ts`) with a ready
 * example operation outside production. Built once per process.
 *
 * @since 0.1.0
 */
import { type GraphQLSchema, print } from "graphql"
import { createYoga, type Plugin, type YogaServerInstance } from "graphql-yoga"
import { RefreshDocument } from "./client/generated.js"
import type * as GatewayConfig from "./GatewayConfig.js"
import * as GatewayLogger from "./GatewayLogger.js"
import * as GraphiQL from "./GraphiQL.js"
import * as Hardening from "./Hardening.js"
import * as NoEcho from "./NoEcho.js"
import * as RefreshResult from "./RefreshResult.js"
import type * as RequestLog from "./RequestLog.js"

/**
 * The path of the GraphQL endpoint.
 *
 * @since 0.1.0
 * @category constants
 */
export const endpoint = "/graphql"

/**
 * What the HTTP layer hands yoga with each request.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerContext {
  readonly requestState: RequestLog.RequestState
}

/**
 * The yoga instance's type.
 *
 * @since 0.1.0
 * @category models
 */
export type GraphqlServer = YogaServerInstance<ServerContext, object>

/**
 * The operation GraphiQL opens with: `src/client/Refresh.graphql`, the one clients send (printed from
 * its typed document), after a comment on how to use it.
 *
 * @since 0.1.0
 * @category constants
 */
export const exampleOperation = `# Trade a refresh token for a new pair: press Run.
# In sandbox mode the variables hold a demo token
# minted for this page load. Tokens are single-use:
# reload for another, or paste the answer's
# refreshToken into the variables.
${print(RefreshDocument)}
`

/**
 * What the variables pane shows when no demo token is available (outside sandbox mode).
 *
 * @since 0.1.0
 * @category constants
 */
export const placeholderRefreshToken = "<refresh token>"

/**
 * GraphiQL's settings; `demoRefreshToken` fills the variables (sandbox mode only).
 *
 * @since 0.1.0
 * @category constructors
 */
export const graphiql = (demoRefreshToken: string | undefined): GraphiQL.PageOptions => ({
  title: "DDN gateway",
  query: exampleOperation,
  variables: JSON.stringify({ refreshToken: demoRefreshToken ?? placeholderRefreshToken }, null, 2),
  defaultEditorToolsVisibility: "variables",
  shouldPersistHeaders: false
})

/**
 * What the yoga instance is built from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly schema: GraphQLSchema
  readonly config: GatewayConfig.GatewayConfig
  readonly logger: GatewayLogger.GatewayLogger
  /** Mints the refresh token GraphiQL opens with, once per page load; only for the embedded sandbox. */
  readonly mintDemoRefreshToken?: (() => string) | undefined
  /** More plugins, after the hardening ones (e.g. `ClientRateLimit.plugin`). */
  readonly plugins?: ReadonlyArray<Plugin> | undefined
}

/**
 * Builds the yoga instance.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): GraphqlServer =>
  createYoga<ServerContext>({
    schema: options.schema,
    graphqlEndpoint: endpoint,
    logging: GatewayLogger.yogaLogger(options.logger),
    maskedErrors: { isDev: false, errorMessage: RefreshResult.messages.internal },
    graphiql: options.config.production ? false : () => graphiql(options.mintDemoRefreshToken?.()),
    renderGraphiQL: GraphiQL.render,
    landingPage: false,
    batching: false,
    multipart: false,
    // HttpServer enforces the 64 KiB limit on the streamed bytes and hands yoga a buffered body;
    // yoga's own limiter would wrap that buffer in a stream pipeline on every request.
    maxRequestBodySize: false,
    cors: Hardening.cors(options.config.corsOrigins),
    plugins: [
      ...Hardening.plugins({ production: options.config.production }),
      ...(options.config.production ? [] : [GraphiQL.pageHeadersPlugin]),
      ...(options.plugins ?? []),
      NoEcho.plugin(options.schema)
    ]
  })

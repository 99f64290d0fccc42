/**
 * The GraphQL schema of design §3: the `refreshToken` mutation, its result union, the `DateTime`
 * scalar and a `health` query. `schema.graphql` at the package root is this schema printed.
 *
 * @since 0.1.0
 */

import type * as Tracer from "effect/Tracer"
import type { GraphQLScalarTypeConfig, GraphQLSchema } from "graphql"
import { createGraphQLError, createSchema, type YogaInitialContext } from "graphql-yoga"
import type * as RefreshResult from "./RefreshResult.js"
import type * as RequestLog from "./RequestLog.js"

/**
 * The SDL.
 *
 * @since 0.1.0
 * @category constants
 */
export const typeDefs = /* GraphQL */ `
  """
  A UTC date-time in ISO-8601 / RFC 3339 form with milliseconds, e.g. \`2025-01-31T12:00:00.000Z\`.
  """
  scalar DateTime @specifiedBy(url: "https://scalars.graphql.org/andimarek/date-time")

  type Query {
    "Always \`ok\` while the gateway serves GraphQL."
    health: String!
  }

  type Mutation {
    """
    Trades a refresh token for a new token pair. DDN turning the token down is data
    (\`RefreshTokenRejected\`); system failures are errors with \`extensions.code\`: \`BAD_USER_INPUT\`,
    \`UPSTREAM_UNAVAILABLE\` (\`retryable\`), \`RATE_LIMITED\` (\`retryAfterSeconds\`),
    \`UPSTREAM_BAD_RESPONSE\` or \`INTERNAL_SERVER_ERROR\`.
    """
    refreshToken(refreshToken: String!): RefreshTokenResult!
  }

  union RefreshTokenResult = TokenPair | RefreshTokenRejected

  "A fresh token pair. The refresh token it was traded for is spent."
  type TokenPair {
    "The new access token (a JWT), for \`Authorization: Bearer\`."
    accessToken: String!
    "The new refresh token; keep it for the next refresh."
    refreshToken: String!
    "Lifetime of the access token in seconds, as DDN stated it."
    expiresIn: Int!
    "Usually \`Bearer\`."
    tokenType: String!
    "When the access token expires, by the gateway's clock."
    expiresAt: DateTime!
  }

  "DDN turned the refresh token down; the user has to sign in again."
  type RefreshTokenRejected {
    reason: RefreshTokenRejectedReason!
    message: String!
  }

  enum RefreshTokenRejectedReason {
    "DDN answered 400: the token is malformed or unknown."
    INVALID
    "DDN answered 401: the token expired, was revoked or was already used."
    EXPIRED
  }
`

const invalidDateTime = (what: string) => createGraphQLError(`DateTime must be an ISO-8601 UTC string, got ${what}`)

const isoUtc = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

const parseIso = (value: unknown): Date => {
  if (typeof value !== "string" || !isoUtc.test(value)) throw invalidDateTime(typeof value)
  const date = new Date(value)
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== value.slice(0, 19)) {
    throw invalidDateTime("an impossible date")
  }
  return date
}

/**
 * The `DateTime` scalar's behaviour: serialises a `Date` as `toISOString()` (UTC, milliseconds).
 * A plain config rather than a `GraphQLScalarType`, so that every graphql object the gateway makes
 * comes from yoga's copy of `graphql` (a second copy, e.g. ESM next to CJS, breaks `instanceof`).
 *
 * @since 0.1.0
 * @category resolvers
 */
export const DateTimeScalar = {
  serialize: (value: unknown): string => {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString()
    return parseIso(value).toISOString()
  },
  parseValue: parseIso,
  parseLiteral: (ast) => {
    if (ast.kind !== "StringValue") throw invalidDateTime(ast.kind)
    return parseIso(ast.value)
  }
} satisfies Pick<GraphQLScalarTypeConfig<Date, string>, "serialize" | "parseValue" | "parseLiteral">

/**
 * What the resolvers see in their context: yoga's, plus the request's log state.
 *
 * @since 0.1.0
 * @category models
 */
export interface Context extends YogaInitialContext {
  readonly requestState: RequestLog.RequestState
}

/**
 * What the schema needs to answer `refreshToken`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Dependencies {
  /**
   * Runs one refresh; `signal` aborts when the client goes away; `span`, with tracing on, is the
   * span it runs under. Never rejects.
   */
  readonly refresh: (
    refreshToken: string,
    signal: AbortSignal,
    span?: Tracer.Span | undefined
  ) => Promise<RefreshResult.Resolution>
}

/**
 * The executable schema over `dependencies`. Built once per process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (dependencies: Dependencies): GraphQLSchema =>
  createSchema<Context>({
    typeDefs,
    resolvers: {
      DateTime: DateTimeScalar,
      Query: { health: () => "ok" },
      Mutation: {
        refreshToken: async (_root: unknown, args: { readonly refreshToken: string }, context: Context) => {
          const state = context.requestState
          const resolution = await dependencies.refresh(
            args.refreshToken,
            context.request.signal,
            state.operationSpan ?? state.span
          )
          context.requestState.outcome = resolution.outcome
          if ("error" in resolution) throw resolution.error
          return resolution.value
        }
      },
      RefreshTokenResult: {
        __resolveType: (value: RefreshResult.TokenPair | RefreshResult.RefreshTokenRejected) => value.__typename
      }
    }
  })

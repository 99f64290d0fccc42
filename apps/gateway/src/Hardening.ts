/**
 * What the gateway refuses, and the yoga/envelop pieces that refuse it:
 *
 * - bodies over {@link maxBodyBytes} (64 KiB) → 413, counted on the streamed bytes by `HttpServer`
 *   before yoga sees the request (yoga then gets the buffered body, so its own limiter is off);
 * - CSRF-prone requests → 403 (`@graphql-yoga/plugin-csrf-prevention`): a request that a browser could
 *   send without a CORS preflight (no `Content-Type`, `text/plain`, a form) must carry the
 *   {@link csrfHeader} header; `application/json` POSTs are preflighted and need nothing more;
 * - mutations over GET → 405, malformed JSON → 400, batches → 400 (yoga, with batching off);
 * - abusive documents (`@escape.tech/graphql-armor`, see {@link armor}): at most 3 aliases (so at most
 *   4 refreshes per request), depth 6, 500 tokens, cost 500, 10 directives, no field suggestions;
 * - introspection in production ({@link noIntrospection}, like graphql's `NoSchemaIntrospectionCustomRule`).
 *
 * Every `/graphql` response carries {@link noStoreHeaders}. CORS headers are sent only for origins
 * listed in `CORS_ORIGINS`.
 *
 * @since 0.1.0
 */
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor"
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention"
import type { GraphQLError, ValidationContext, ValidationRule } from "graphql"
import { createGraphQLError, type Plugin, type YogaServerOptions } from "graphql-yoga"

/** The largest request body the gateway reads: 64 KiB. */
export const maxBodyBytes = 64 * 1024

/** The header that makes a non-preflighted request acceptable (any value). */
export const csrfHeader = "x-graphql-yoga-csrf"

/** Sent on every `/graphql` response: token responses must never be cached. */
export const noStoreHeaders: Readonly<Record<string, string>> = { "cache-control": "no-store", pragma: "no-cache" }

/**
 * Reports an armor rejection as a validation error (instead of armor's default of throwing it), so
 * yoga answers it like any invalid document: `GRAPHQL_VALIDATION_FAILED`, HTTP 400 for
 * `application/graphql-response+json` clients.
 */
const asValidationError = {
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)]
}

/** The graphql-armor limits. */
export const armor = {
  maxAliases: { n: 3, ...asValidationError },
  maxDepth: { n: 6, ignoreIntrospection: true, ...asValidationError },
  maxTokens: { n: 500 },
  costLimit: { maxCost: 500, ignoreIntrospection: true, ...asValidationError },
  maxDirectives: { n: 10, ...asValidationError },
  blockFieldSuggestion: { enabled: true }
} satisfies Parameters<typeof EnvelopArmorPlugin>[0]

/**
 * Rejects `__schema` and `__type` (but not `__typename`). Its errors are made with yoga's
 * `createGraphQLError`, so they are yoga's `GraphQLError` whichever copy of `graphql` loaded this module.
 */
export const noIntrospection: ValidationRule = (context) => ({
  Field: (node) => {
    const name = node.name.value
    if (name === "__schema" || name === "__type") {
      context.reportError(
        createGraphQLError(`GraphQL introspection is disabled, but the query contained ${name}.`, { nodes: [node] })
      )
    }
  }
})

/** Adds {@link noIntrospection} to validation. */
export const disableIntrospection: Plugin = {
  onValidate: ({ addValidationRule }) => {
    addValidationRule(noIntrospection)
  }
}

/** The yoga plugins of the hardening above; introspection is refused when `production`. */
export const plugins = (options: { readonly production: boolean }): Array<Plugin> => [
  useCSRFPrevention({ requestHeaders: [csrfHeader] }),
  EnvelopArmorPlugin(armor),
  ...(options.production ? [disableIntrospection] : [])
]

/** Methods and headers allowed cross-origin. */
const corsMethods = ["GET", "POST", "OPTIONS"]
const corsHeaders = ["content-type", "accept", csrfHeader]

/**
 * yoga's `cors` option for `origins`: nothing at all when the list is empty; otherwise CORS headers
 * only for a listed `Origin` (no credentials, `x-request-id` exposed, preflight cached 10 minutes).
 */
export const cors = (origins: ReadonlyArray<string>): YogaServerOptions<object, object>["cors"] => {
  if (origins.length === 0) return false
  const allowed = new Set(origins)
  return (request) => {
    const origin = request.headers.get("origin")
    return origin !== null && allowed.has(origin)
      ? {
          origin,
          methods: corsMethods,
          allowedHeaders: corsHeaders,
          exposedHeaders: ["x-request-id"],
          credentials: false,
          maxAge: 600
        }
      : false
  }
}

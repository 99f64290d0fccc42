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
 * - introspection in production (`@graphql-yoga/plugin-disable-introspection`, graphql's
 *   `NoSchemaIntrospectionCustomRule`; `NoEcho` answers its error with a fixed text);
 * - answers other than JSON → 406 before execution ({@link jsonResponsesOnly}): a refresh is one
 *   answer, so `text/event-stream` and `multipart/mixed` buy nothing, and yoga's SSE answer would
 *   carry `Cache-Control: no-cache` instead of `no-store`;
 * - request headers over 16 KiB → 431, a request (headers and body) that takes over 15 s → 408
 *   ({@link httpLimits}, enforced by `node:http`).
 *
 * Every `/graphql` response carries {@link noStoreHeaders}. CORS headers are sent only for origins
 * listed in `CORS_ORIGINS`.
 *
 * @since 0.1.0
 */
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor"
import { useCSRFPrevention } from "@graphql-yoga/plugin-csrf-prevention"
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection"
import type { GraphQLError, ValidationContext } from "graphql"
import type { Plugin, YogaServerOptions } from "graphql-yoga"

/**
 * The largest request body the gateway reads: 64 KiB.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBodyBytes = 64 * 1024

/**
 * The `node:http` limits of the public listener.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpLimits {
  /** Largest request line plus headers (Node's `maxHeaderSize`); beyond it, 431. */
  readonly maxHeaderBytes: number
  /** Time for the request line and headers to arrive; beyond it, 408. */
  readonly headersTimeoutMs: number
  /** Time for the whole request, body included, to arrive; beyond it, 408. */
  readonly requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number
  /** How often Node checks the two timeouts above (their granularity). */
  readonly checkIntervalMs: number
}

/**
 * The defaults: 16 KiB of headers, 10 s for them, 15 s for the whole request, 5 s keep-alive, checked every second.
 *
 * @since 0.1.0
 * @category constants
 */
export const httpLimits: HttpLimits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  checkIntervalMs: 1_000
}

/**
 * The header that makes a non-preflighted request acceptable (any value).
 *
 * @since 0.1.0
 * @category constants
 */
export const csrfHeader = "x-graphql-yoga-csrf"

/**
 * Sent on every `/graphql` response: token responses must never be cached.
 *
 * @since 0.1.0
 * @category constants
 */
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

/**
 * The graphql-armor limits.
 *
 * @since 0.1.0
 * @category constants
 */
export const armor = {
  maxAliases: { n: 3, ...asValidationError },
  maxDepth: { n: 6, ignoreIntrospection: true, ...asValidationError },
  maxTokens: { n: 500 },
  costLimit: { maxCost: 500, ignoreIntrospection: true, ...asValidationError },
  maxDirectives: { n: 10, ...asValidationError },
  blockFieldSuggestion: { enabled: true }
} satisfies Parameters<typeof EnvelopArmorPlugin>[0]

/**
 * Yoga's introspection switch, for every request (typed for any context: its `Plugin<TContext>` does not
 * widen to yoga's default context under `exactOptionalPropertyTypes`).
 */
const disableIntrospection = useDisableIntrospection() as Plugin

/**
 * The media types the gateway answers in.
 *
 * @since 0.1.0
 * @category constants
 */
export const jsonMediaTypes = ["application/graphql-response+json", "application/json"] as const

const matchesJson = (asked: string) => {
  const [type, subtype] = asked.split("/")
  return jsonMediaTypes.some((offered) => {
    const [offeredType, offeredSubtype] = offered.split("/")
    return (type === "*" || type === offeredType) && (subtype === "*" || subtype === offeredSubtype)
  })
}

/**
 * Whether an `Accept` header lets yoga answer in JSON, read as yoga reads it: no header accepts
 * anything, a charset other than UTF-8 rules a type out, and `q` values do not rank.
 *
 * @since 0.1.0
 * @category utils
 */
export const acceptsJson = (accept: string | null): boolean =>
  (accept ?? "*/*")
    .replace(/\s/g, "")
    .toLowerCase()
    .split(",")
    .some((entry) => {
      const [type = "", ...parameters] = entry.split(";")
      const charset = parameters.find((parameter) => parameter.startsWith("charset="))
      return (charset === undefined || charset === "charset=utf-8") && matchesJson(type)
    })

const notAcceptable = JSON.stringify({
  errors: [
    {
      message: `The gateway answers in ${jsonMediaTypes.join(" or ")} only`,
      extensions: { code: "NOT_ACCEPTABLE" }
    }
  ]
})

/**
 * Refuses, before any execution, a GraphQL request that accepts no JSON answer: 406.
 *
 * @since 0.1.0
 * @category plugins
 */
export const jsonResponsesOnly: Plugin = {
  onRequest: ({ request, endResponse, fetchAPI }) => {
    if (request.method !== "GET" && request.method !== "POST") return
    if (acceptsJson(request.headers.get("accept"))) return
    endResponse(
      new fetchAPI.Response(notAcceptable, {
        status: 406,
        headers: {
          "content-type": "application/json; charset=utf-8",
          accept: jsonMediaTypes.map((type) => `${type}; charset=utf-8`).join(", ")
        }
      })
    )
  }
}

/**
 * The yoga plugins of the hardening above; introspection is refused when `production`.
 *
 * @since 0.1.0
 * @category plugins
 */
export const plugins = (options: { readonly production: boolean }): Array<Plugin> => [
  jsonResponsesOnly,
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
 *
 * @since 0.1.0
 * @category constructors
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

/**
 * One log line per HTTP request: request id (also sent back as `x-request-id`), method, path (never
 * the query string, which can carry GraphQL variables), status, outcome and duration, and with
 * tracing on the request's `trace_id` and `span_id`. Nothing from the request body or headers is logged.
 *
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import * as LogLevel from "effect/LogLevel"
import type * as Tracer from "effect/Tracer"
import type * as GatewayLogger from "./GatewayLogger.js"
import type * as RefreshResult from "./RefreshResult.js"

/**
 * The response header carrying the request id.
 *
 * @since 0.1.0
 * @category constants
 */
export const requestIdHeader = "x-request-id"

/**
 * Per-request state, filled in as the request is handled.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestState {
  /** A fresh UUID; incoming `x-request-id` headers are not trusted. */
  readonly id: string
  /** `performance.now()` at arrival. */
  readonly startedAt: number
  /** The outcome of the last refresh the request ran, if any. */
  outcome: RefreshResult.Outcome | undefined
  /** The request's server span, when tracing is on. */
  span: Tracer.Span | undefined
  /** The span of the GraphQL operation being executed, which refreshes run under. */
  operationSpan: Tracer.Span | undefined
}

/**
 * How a request ended in the log: a refresh outcome, or what the HTTP layer made of it.
 *
 * @since 0.1.0
 * @category models
 */
export type LoggedOutcome = RefreshResult.Outcome | "ok" | "refused" | "error" | "aborted"

/**
 * A new request's state.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (): RequestState => ({
  id: randomUUID(),
  startedAt: performance.now(),
  outcome: undefined,
  span: undefined,
  operationSpan: undefined
})

/**
 * The logged outcome: the refresh's if one ran, else from the status (`refused` for 4xx before any refresh).
 *
 * @since 0.1.0
 * @category utils
 */
export const outcomeOf = (state: RequestState, status: number, finished: boolean): LoggedOutcome =>
  !finished ? "aborted" : (state.outcome ?? (status >= 500 ? "error" : status >= 400 ? "refused" : "ok"))

/**
 * The path of a request target, without the query string.
 *
 * @since 0.1.0
 * @category utils
 */
export const pathOf = (url: string): string => {
  const query = url.indexOf("?")
  return query === -1 ? url : url.slice(0, query)
}

/**
 * Writes the request's line at info level (nothing is built when info is off).
 *
 * @since 0.1.0
 * @category utils
 */
export const write = (
  logger: GatewayLogger.GatewayLogger,
  state: RequestState,
  request: { readonly method: string; readonly path: string },
  response: { readonly status: number; readonly finished: boolean }
): void => {
  if (!logger.isEnabled(LogLevel.Info)) return
  logger.log(LogLevel.Info, "request", {
    requestId: state.id,
    method: request.method,
    path: request.path.length > 256 ? `${request.path.slice(0, 256)}…` : request.path,
    status: response.status,
    outcome: outcomeOf(state, response.status, response.finished),
    durationMs: Math.round((performance.now() - state.startedAt) * 100) / 100,
    ...(state.span === undefined ? undefined : { trace_id: state.span.traceId, span_id: state.span.spanId })
  })
}

/**
 * The sandbox's answers as values: the headers, the JSON error body every refusal shares, the
 * replies that never change, and writing one out.
 *
 * @internal
 */
import type { OutgoingHttpHeaders, ServerResponse } from "node:http"
import { send } from "./http.js"

/** Headers of every JSON answer. */
export const jsonHeaders: OutgoingHttpHeaders = { "content-type": "application/json", "cache-control": "no-store" }

/** Headers of an answer carrying tokens. */
export const tokenHeaders: OutgoingHttpHeaders = { ...jsonHeaders, pragma: "no-cache" }

/** A whole answer, ready to write. */
export interface Reply {
  readonly status: number
  readonly headers: OutgoingHttpHeaders
  readonly body: string
}

/** An answer with `value` as its JSON body. */
export const jsonReply = (status: number, value: unknown, headers = jsonHeaders): Reply => ({
  status,
  headers,
  body: JSON.stringify(value)
})

/** A refusal: `{"error", "message"}`. */
export const errorReply = (status: number, error: string, message: string, headers = jsonHeaders): Reply =>
  jsonReply(status, { error, message }, headers)

/** A 400 `invalid_request` saying why. */
export const invalidRequest = (message: string): Reply => errorReply(400, "invalid_request", message)

/** The 405 of a path that takes only the methods `allow` lists. */
export const methodNotAllowed = (allow: string): Reply =>
  errorReply(405, "method_not_allowed", `Allowed: ${allow}`, { ...jsonHeaders, allow })

/** The 404 of any path that is not a route. */
export const notFound = errorReply(404, "not_found", "No such route")

/** The 500 of a handler that threw. */
export const internalError = errorReply(500, "internal_error", "The sandbox failed to handle the request")

/** `GET /healthz`. */
export const healthy = jsonReply(200, { status: "ok" })

/** Writes `reply`, unless an answer was already written or the client has gone. */
export const reply = (res: ServerResponse, { status, headers, body }: Reply): void => send(res, status, headers, body)

/** Answers 204 without a body. */
export const noContent = (res: ServerResponse): void => {
  res.writeHead(204).end()
}

/**
 * The sandbox's route table: a path and a method pick a handler. The query string plays no part;
 * an unknown path is a 404, a known one with another method a 405 with `Allow`, and a handler that
 * throws or rejects a 500.
 *
 * @internal
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { internalError, methodNotAllowed, notFound, type Reply, reply } from "./replies.js"

/** Answers one request, at once or when the promise settles. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

/** Handlers by path, then by method in the order `Allow` lists them: `{ "/healthz": { GET: … } }`. */
export type Routes = Readonly<Record<string, Readonly<Record<string, Handler>>>>

interface Route {
  readonly handlers: ReadonlyMap<string, Handler>
  readonly notAllowed: Reply
}

/** The `request` listener serving `routes`. */
export const make = (routes: Routes): ((req: IncomingMessage, res: ServerResponse) => void) => {
  const table = new Map<string, Route>(
    Object.entries(routes).map(([path, methods]) => [
      path,
      { handlers: new Map(Object.entries(methods)), notAllowed: methodNotAllowed(Object.keys(methods).join(", ")) }
    ])
  )
  const route = (req: IncomingMessage, res: ServerResponse): void | Promise<void> => {
    const url = req.url ?? "/"
    const query = url.indexOf("?")
    const found = table.get(query === -1 ? url : url.slice(0, query))
    if (found === undefined) return reply(res, notFound)
    const handler = found.handlers.get(req.method ?? "")
    return handler === undefined ? reply(res, found.notAllowed) : handler(req, res)
  }
  return (req, res) => {
    try {
      const pending = route(req, res)
      if (pending !== undefined) pending.catch(() => reply(res, internalError))
    } catch {
      reply(res, internalError)
    }
  }
}

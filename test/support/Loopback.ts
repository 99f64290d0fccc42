/**
 * A test server on a free loopback port: `listen` resolves once it listens (through the sandbox's
 * `Listening.listen`), with its URL and a `stop` that ends every connection (keep-alive ones
 * included) before closing it.
 */
import type { Server } from "node:http"
import * as Listening from "@ddn/sandbox/Listening"

/** A server listening on loopback. */
export interface Loopback {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  /** Closes every connection, then the server. */
  readonly stop: () => Promise<void>
}

/** Makes `server` listen on a free port of 127.0.0.1; rejects if it cannot. */
export const listen = async (server: Server): Promise<Loopback> => {
  const { origin } = await Listening.listen(server, "127.0.0.1", 0)
  return {
    url: origin,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      })
  }
}

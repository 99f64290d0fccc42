/**
 * A test server on a free loopback port: `listen` resolves once it listens, with its URL and a `stop`
 * that ends every connection (keep-alive ones included) before closing it.
 */
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"

/** A server listening on loopback. */
export interface Listening {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string
  readonly port: number
  /** Closes every connection, then the server. */
  readonly stop: () => Promise<void>
}

/** Makes `server` listen on a free port of 127.0.0.1; rejects if it cannot. */
export const listen = (server: Server): Promise<Listening> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        stop: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })

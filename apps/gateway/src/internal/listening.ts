/**
 * Binding a `node:http` server and naming the address it listens on.
 *
 * @internal
 */
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"

/** The host to put in a URL for `host`: a wildcard address becomes loopback, IPv6 gets brackets. */
export const formatHost = (host: string): string =>
  host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host

/** Listens on `host:port` (0: a free port); rejects if it cannot be bound. Resolves with the URL and port. */
export const listenOn = (
  server: Server,
  host: string,
  port: number
): Promise<{ readonly origin: string; readonly port: number }> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, host, () => {
      server.off("error", reject)
      const bound = (server.address() as AddressInfo).port
      resolve({ origin: `http://${formatHost(host)}:${bound}`, port: bound })
    })
  })

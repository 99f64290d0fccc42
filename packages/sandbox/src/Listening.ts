/**
 * Binding a `node:http` server and naming the address it listens on, shared by the sandbox and the
 * gateway's servers (entry point `@ddn/sandbox/Listening`, which loads nothing else of the sandbox).
 *
 * @since 0.1.0
 */
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"

/**
 * Where a server listens: its origin (e.g. `http://127.0.0.1:43123`, no trailing slash) and port.
 *
 * @since 0.1.0
 * @category models
 */
export interface Address {
  readonly origin: string
  readonly port: number
}

/**
 * The host to put in a URL for `host`: a wildcard address becomes loopback (`0.0.0.0` → `127.0.0.1`,
 * `::` → `[::1]`), another IPv6 address gets brackets, anything else is kept.
 *
 * @since 0.1.0
 * @category utils
 */
export const formatHost = (host: string): string =>
  host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host

/**
 * Listens on `host:port` (port 0: a free one) and resolves with the {@link Address}; rejects with
 * the `listen` error (e.g. `EADDRINUSE`) if it cannot be bound.
 *
 * @since 0.1.0
 * @category utils
 */
export const listen = (server: Server, host: string, port: number): Promise<Address> =>
  new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(port, host, () => {
      server.off("error", reject)
      const bound = (server.address() as AddressInfo).port
      resolve({ origin: `http://${formatHost(host)}:${bound}`, port: bound })
    })
  })

/**
 * The sockets a server holds, counted for `Stats.connections` and destroyed on stop, so that hung
 * requests cannot keep a stopping sandbox alive.
 *
 * @internal
 */
import type { Server } from "node:http"
import type { Socket } from "node:net"
import type { Stats } from "../SandboxServer.js"

/** The connections of one server. */
export interface Connections {
  /** `open` now, the `peak` of open ones at any moment, `total` accepted. */
  readonly counts: () => Stats["connections"]
  /** Closes the server and destroys every open socket, hung ones included. Idempotent. */
  readonly stop: () => Promise<void>
}

/** Tracks the connections `server` accepts from now on. */
export const track = (server: Server): Connections => {
  const sockets = new Set<Socket>()
  let peak = 0
  let total = 0
  server.on("connection", (socket) => {
    sockets.add(socket)
    total += 1
    peak = Math.max(peak, sockets.size)
    socket.once("close", () => sockets.delete(socket))
  })
  let stopping: Promise<void> | undefined
  return {
    counts: () => ({ open: sockets.size, peak, total }),
    stop: () => {
      stopping ??= new Promise((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
      return stopping
    }
  }
}

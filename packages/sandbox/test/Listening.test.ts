import { createServer } from "node:http"
import { describe, expect, it } from "@effect/vitest"
import * as Listening from "../src/Listening.js"

describe("Listening", () => {
  it("formatHost puts a host in a URL: a wildcard becomes loopback, an IPv6 address gets brackets", () => {
    const hosts = ["0.0.0.0", "::", "::1", "2001:db8::7", "127.0.0.1", "localhost"]
    expect(hosts.map(Listening.formatHost)).toEqual([
      "127.0.0.1",
      "[::1]",
      "[::1]",
      "[2001:db8::7]",
      "127.0.0.1",
      "localhost"
    ])
  })

  it("listen binds a free port and names its origin; a port taken rejects with the listen error", async () => {
    const server = createServer((_, res) => res.end("up"))
    try {
      const { origin, port } = await Listening.listen(server, "0.0.0.0", 0)
      expect(origin).toBe(`http://127.0.0.1:${port}`)
      expect(await (await fetch(origin)).text()).toBe("up")
      expect(server.listenerCount("error")).toBe(0)
      const second = createServer()
      await expect(Listening.listen(second, "0.0.0.0", port)).rejects.toMatchObject({ code: "EADDRINUSE" })
      expect(second.listenerCount("error")).toBe(0)
    } finally {
      server.closeAllConnections()
      server.close()
    }
  })
})

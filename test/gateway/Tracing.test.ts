/**
 * OpenTelemetry traces end to end: real gateway processes exporting over OTLP/HTTP to a receiver in
 * this test (protobuf and JSON), in front of the sandbox behind a proxy that records what DDN
 * receives. Each outcome's tree is checked span by span; a property test searches every exported
 * byte for any piece of any token; a collector that hangs or is gone costs the refreshes nothing.
 */
import type { SandboxServer } from "@ddn/sandbox"
import fc from "fast-check"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import * as OtlpReceiver from "../support/OtlpReceiver.js"
import * as RecordingProxy from "../support/RecordingProxy.js"
import { type RedisServer, startRedis } from "../support/RedisServer.js"
import {
  type GraphqlResponse,
  killAll,
  listeningUrl,
  postJson,
  refresh,
  refreshMutation,
  type Spawned,
  spawnGateway,
  startSandbox
} from "./support.js"

type Span = OtlpReceiver.ReceivedSpan

const server = 2
const client = 3
const errorStatus = 2

let sandbox: SandboxServer.RunningSandbox
let proxy: RecordingProxy.RecordingProxy
let receiver: OtlpReceiver.OtlpReceiver
let gateway: Spawned
let graphqlUrl: string

/** The settings every traced gateway here runs with: batches every 20 ms, attempts bounded at 300 ms. */
const tracedEnv = (endpoint: string, extra: Record<string, string> = {}) => ({
  DDN_API_URL: proxy.url,
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_BSP_SCHEDULE_DELAY: "20",
  DDN_ATTEMPT_TIMEOUT_MS: "300",
  DDN_REFRESH_TIMEOUT_MS: "2000",
  LOG_LEVEL: "info",
  ...extra
})

// A fault a test injected but its refresh did not consume (fewer attempts fit its deadline under load) must not reach the next.
beforeEach(() => sandbox?.faults.reset())

beforeAll(async () => {
  sandbox = await startSandbox()
  proxy = await RecordingProxy.start(sandbox.url)
  receiver = await OtlpReceiver.start()
  gateway = spawnGateway(tracedEnv(receiver.url))
  graphqlUrl = `${await listeningUrl(gateway)}/graphql`
})

/** Receivers of one test each, stopped with the rest after the file. */
const ownReceivers: Array<OtlpReceiver.OtlpReceiver> = []
const ownReceiver = async (mode?: OtlpReceiver.Mode) => {
  const own = await OtlpReceiver.start(mode)
  ownReceivers.push(own)
  return own
}

afterAll(async () => {
  await killAll()
  await proxy?.stop()
  await receiver?.stop()
  await Promise.all(ownReceivers.map((own) => own.stop()))
  await sandbox?.stop()
})

/** Runs `use` with a gateway of its own spawned with `env`, and its GraphQL URL; kills it after. */
const withGateway = async (env: Record<string, string>, use: (spawned: Spawned, url: string) => Promise<void>) => {
  const spawned = spawnGateway(env)
  try {
    await use(spawned, `${await listeningUrl(spawned)}/graphql`)
  } finally {
    spawned.child.kill("SIGKILL")
    await spawned.exited
  }
}

const mint = () => sandbox.authority.mintSession().refreshToken

const traceIdOf = (response: GraphqlResponse): string => {
  const header = response.headers.get("traceparent")
  expect(header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
  return header!.split("-")[1]!
}

/** One trace as a tree: its spans by id, and the children of each. */
interface Tree {
  readonly root: Span
  readonly spans: ReadonlyArray<Span>
  readonly children: (span: Span) => ReadonlyArray<Span>
  /** The only span named `name`; fails when there are none or several. */
  readonly one: (name: string) => Span
  readonly named: (name: string) => ReadonlyArray<Span>
}

/** Waits for the trace of `response` to be complete (its server span arrived) and returns it as a tree. */
const treeOf = async (response: GraphqlResponse, from = receiver): Promise<Tree> => {
  const traceId = traceIdOf(response)
  const spans = (
    await from.waitFor((all) => all.some((span) => span.traceId === traceId && span.kind === server))
  ).filter((span) => span.traceId === traceId)
  const ids = new Set(spans.map((span) => span.spanId))
  const roots = spans.filter((span) => !ids.has(span.parentSpanId))
  expect(roots.map((span) => span.name)).toEqual(["POST /graphql"])
  const named = (name: string) => spans.filter((span) => span.name === name)
  return {
    root: roots[0]!,
    spans,
    children: (parent) =>
      spans.filter((span) => span.parentSpanId === parent.spanId).sort((a, b) => Number(a.startNanos - b.startNanos)),
    named,
    one: (name) => {
      const found = named(name)
      expect(
        found.map((span) => span.name),
        name
      ).toEqual([name])
      return found[0]!
    }
  }
}

/** The names of the path from the root down to `span`. */
const pathOf = (tree: Tree, span: Span): ReadonlyArray<string> => {
  const path = [span.name]
  for (let at = span; at !== tree.root; ) {
    at = tree.spans.find((candidate) => candidate.spanId === at.parentSpanId)!
    path.unshift(at.name)
  }
  return path
}

const upstreamPath = ["POST /graphql", "mutation", "RefreshCoordinator.refresh", "DdnAuthClient.refresh"]

describe("one trace per request, one tree", () => {
  it("success: server span, operation, coordinator, client, one attempt; the response and the log line carry it", async () => {
    const response = await refresh(graphqlUrl, mint())
    expect(response.body.data.refreshToken.__typename).toBe("TokenPair")
    const tree = await treeOf(response)

    expect(tree.root.kind).toBe(server)
    expect(tree.root.parentSpanId).toBe("")
    expect(tree.root.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/graphql",
      "http.response.status_code": 200
    })
    expect(response.headers.get("traceparent")).toBe(`00-${tree.root.traceId}-${tree.root.spanId}-01`)
    const operation = tree.one("mutation")
    expect(operation.attributes).toMatchObject({
      "graphql.operation.type": "mutation",
      "ddn.refresh.outcome": "success"
    })
    expect(tree.one("RefreshCoordinator.refresh").attributes["ddn.refresh.source"]).toBe("upstream")
    const attempt = tree.one("http.client POST")
    expect(pathOf(tree, attempt)).toEqual([...upstreamPath, "http.client POST"])
    expect(attempt.kind).toBe(client)
    expect(attempt.attributes).toMatchObject({ "http.request.method": "POST", "http.response.status_code": 200 })
    expect(attempt.attributes["url.full"]).toBe(`${proxy.url}/gateway/auth/refresh`)
    expect(tree.one("DdnAuthClient.refresh").events).toHaveLength(0)
    expect(tree.spans.every((span) => span.status.code !== errorStatus)).toBe(true)
    expect(tree.root.resource).toMatchObject({ "service.name": "ddn-gateway", "service.version": "0.1.0" })

    const line = gateway
      .stdout()
      .split("\n")
      .find((candidate) => candidate.includes(`"trace_id":"${tree.root.traceId}"`))
    expect(line).toBeDefined()
    expect(JSON.parse(line!)).toMatchObject({ msg: "request", outcome: "success", span_id: tree.root.spanId })
  })

  it("retried success: one client span per attempt, each with its outcome, and a ddn.retry event per wait", async () => {
    sandbox.faults.inject({ type: "status", status: 503 })
    sandbox.faults.inject({ type: "hang", phase: "before" })
    const response = await refresh(graphqlUrl, mint())
    expect(response.body.data.refreshToken.__typename).toBe("TokenPair")
    const tree = await treeOf(response)

    const refreshSpan = tree.one("DdnAuthClient.refresh")
    const attempts = tree.children(refreshSpan)
    expect(attempts.map((span) => span.name)).toEqual(["http.client POST", "http.client POST", "http.client POST"])
    expect(attempts[0]!.attributes).toMatchObject({ "http.response.status_code": 503, "error.type": "503" })
    expect(attempts[0]!.status.code).toBe(errorStatus)
    expect(attempts[1]!.attributes["status.interrupted"]).toBe(true)
    expect(attempts[1]!.attributes["http.response.status_code"]).toBeUndefined()
    expect(attempts[2]!.attributes["http.response.status_code"]).toBe(200)
    expect(refreshSpan.events.map((event) => event.name)).toEqual(["ddn.retry", "ddn.retry"])
    expect(refreshSpan.events[0]!.attributes).toMatchObject({
      "ddn.retry.number": 1,
      "error.type": "Status",
      "http.response.status_code": 503
    })
    expect(refreshSpan.events[1]!.attributes).toMatchObject({ "ddn.retry.number": 2, "error.type": "Timeout" })
    expect(typeof refreshSpan.events[0]!.attributes["ddn.retry.delay_ms"]).toBe("number")
    // The waits are the gaps between attempts.
    expect(attempts[1]!.startNanos).toBeGreaterThan(attempts[0]!.endNanos)
    expect(refreshSpan.status.code).not.toBe(errorStatus)
  })

  it("rejection: DDN's 400 is data for GraphQL, an error of its tag on the core's spans", async () => {
    sandbox.faults.inject({ type: "status", status: 400 })
    const response = await refresh(graphqlUrl, mint())
    expect(response.body.data.refreshToken.reason).toBe("INVALID")
    const tree = await treeOf(response)

    expect(tree.one("mutation").attributes["ddn.refresh.outcome"]).toBe("invalid")
    expect(tree.one("mutation").status.code).not.toBe(errorStatus)
    for (const name of ["RefreshCoordinator.refresh", "DdnAuthClient.refresh"]) {
      const span = tree.one(name)
      expect(span.status).toEqual({ code: errorStatus, message: "" })
      expect(span.attributes["error.type"]).toBe("RefreshTokenInvalid")
      expect(span.events.map(({ name, attributes }) => ({ name, attributes }))).toEqual([
        { name: "exception", attributes: { "exception.type": "RefreshTokenInvalid" } }
      ])
    }
    expect(tree.one("http.client POST").attributes).toMatchObject({
      "http.response.status_code": 400,
      "error.type": "400"
    })
  })

  it("timeout: every attempt interrupted, the refresh an UpstreamUnavailable(Timeout), the operation its code", async () => {
    sandbox.faults.inject({ type: "hang", phase: "before" }, 4)
    const response = await refresh(graphqlUrl, mint())
    expect(response.body.errors[0].extensions.code).toBe("UPSTREAM_UNAVAILABLE")
    const tree = await treeOf(response)

    const attempts = tree.named("http.client POST")
    expect(attempts.length).toBeGreaterThanOrEqual(2)
    expect(attempts.every((span) => span.attributes["status.interrupted"] === true)).toBe(true)
    const refreshSpan = tree.one("DdnAuthClient.refresh")
    expect(refreshSpan.attributes).toMatchObject({
      "error.type": "UpstreamUnavailable",
      "ddn.error.attempts": attempts.length
    })
    // The last attempt's timer is its own, or the refresh's deadline when that comes first (load decides).
    expect(["Timeout", "Deadline"]).toContain(refreshSpan.attributes["ddn.error.reason"])
    expect(refreshSpan.events.filter((event) => event.name === "ddn.retry")).toHaveLength(attempts.length - 1)
    expect(tree.one("mutation").attributes).toMatchObject({
      "error.type": "UPSTREAM_UNAVAILABLE",
      "ddn.refresh.outcome": "unavailable"
    })
    expect(tree.one("mutation").status.code).toBe(errorStatus)
  })

  it("coalesced and reused: the coordinator says so, and no upstream call is in their trees", async () => {
    const token = mint()
    // Long enough for the second to join the first's call, well inside the 300 ms attempt timeout (a
    // latency equal to it timed the first attempt out under load: both then failed, with no source).
    sandbox.faults.inject({ type: "latency", ms: 120 })
    const [first, second] = await Promise.all([refresh(graphqlUrl, token), refresh(graphqlUrl, token)])
    expect(first.body.data.refreshToken.__typename).toBe("TokenPair")
    expect(second.body.data.refreshToken).toEqual(first.body.data.refreshToken)
    const trees = await Promise.all([treeOf(first), treeOf(second)])
    const sources = trees.map((tree) => tree.one("RefreshCoordinator.refresh").attributes["ddn.refresh.source"]).sort()
    // The second joins the first's call, or (when load delays it past that call) its reuse window.
    expect(sources[1]).toBe("upstream")
    expect(["coalesced", "reused"]).toContain(sources[0])
    const joined = trees.find(
      (tree) => tree.one("RefreshCoordinator.refresh").attributes["ddn.refresh.source"] !== "upstream"
    )!
    expect(joined.named("DdnAuthClient.refresh")).toEqual([])
    expect(joined.one("mutation").attributes["ddn.refresh.outcome"]).toBe(sources[0])

    const again = await treeOf(await refresh(graphqlUrl, token))
    expect(again.one("RefreshCoordinator.refresh").attributes["ddn.refresh.source"]).toBe("reused")
    expect(again.named("DdnAuthClient.refresh")).toEqual([])
    expect(again.one("mutation").attributes["ddn.refresh.outcome"]).toBe("reused")
  })

  it("bad input: refused by the coordinator with InvalidInput(Empty), no upstream span", async () => {
    const response = await refresh(graphqlUrl, "")
    expect(response.body.errors[0].extensions.code).toBe("BAD_USER_INPUT")
    const tree = await treeOf(response)
    expect(tree.one("RefreshCoordinator.refresh").attributes).toMatchObject({
      "error.type": "InvalidInput",
      "ddn.error.reason": "Empty"
    })
    expect(tree.named("DdnAuthClient.refresh")).toEqual([])
    expect(tree.one("mutation").attributes["error.type"]).toBe("BAD_USER_INPUT")
  })

  it("a request GraphQL refuses (no execution) still has its server span", async () => {
    const response = await postJson(graphqlUrl, { query: "mutation { refreshToken(refreshToken: 1) }" })
    expect(response.status).toBe(400)
    const tree = await treeOf(response)
    expect(tree.spans.map((span) => span.name)).toEqual(["POST /graphql"])
    expect(tree.root.attributes["http.response.status_code"]).toBe(400)
  })
})

describe("trace context", () => {
  it("continues an incoming traceparent, and answers with the same trace", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    const parent = "00f067aa0ba902b7"
    const response = await postJson(
      graphqlUrl,
      { query: refreshMutation, variables: { refreshToken: mint() } },
      { traceparent: `00-${traceId}-${parent}-01` }
    )
    expect(traceIdOf(response)).toBe(traceId)
    const spans = await receiver.waitFor((all) => all.some((span) => span.traceId === traceId && span.kind === server))
    const root = spans.find((span) => span.traceId === traceId && span.kind === server)!
    expect(root.parentSpanId).toBe(parent)
    expect(spans.filter((span) => span.traceId === traceId).map((span) => span.name)).toContain("http.client POST")
  })

  it("an unsampled incoming trace stays unsampled: nothing exported, the answer says so", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c"
    const response = await postJson(
      graphqlUrl,
      { query: refreshMutation, variables: { refreshToken: mint() } },
      { traceparent: `00-${traceId}-b7ad6b7169203331-00` }
    )
    expect(response.headers.get("traceparent")).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`))
    // A later sampled request's spans arriving shows the exporter has run since.
    await treeOf(await refresh(graphqlUrl, mint()))
    expect(receiver.spans().filter((span) => span.traceId === traceId)).toEqual([])
  })

  it("a malformed traceparent starts a trace of its own", async () => {
    const response = await postJson(
      graphqlUrl,
      { query: refreshMutation, variables: { refreshToken: mint() } },
      { traceparent: "00-00000000000000000000000000000000-00f067aa0ba902b7-01" }
    )
    const tree = await treeOf(response)
    expect(tree.root.parentSpanId).toBe("")
  })

  it("DDN never receives trace context", async () => {
    await refresh(graphqlUrl, mint())
    const refreshes = proxy.requests().filter((request) => request.path === "/gateway/auth/refresh")
    expect(refreshes.length).toBeGreaterThan(5)
    for (const { headers } of refreshes) {
      for (const name of Object.keys(headers)) {
        expect(name).not.toMatch(/^(traceparent|tracestate|baggage|b3|x-b3-.*|uber-trace-id)$/)
      }
    }
  })
})

describe("nothing secret in a span", () => {
  it("no token, nor any 8-character piece of one, anywhere in the exported bytes (property over outcomes)", async () => {
    const outcomes = fc.constantFrom(
      "success",
      "retried",
      "rejected",
      "timeout",
      "coalesced",
      "reused",
      "bad_input",
      "junk"
    )
    const junk = fc.string({ minLength: 8, maxLength: 40, unit: "grapheme" })
    const secrets = new Set<string>()
    const remember = (value: unknown) => {
      if (typeof value === "string" && value.length >= 8) secrets.add(value)
    }
    const run = async (token: string) => {
      remember(token)
      const response = await refresh(graphqlUrl, token)
      remember(response.body?.data?.refreshToken?.accessToken)
      remember(response.body?.data?.refreshToken?.refreshToken)
      return response
    }
    const responses: Array<GraphqlResponse> = []

    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(outcomes, junk), { minLength: 1, maxLength: 4 }), async (steps) => {
        for (const [outcome, text] of steps) {
          const token = mint()
          switch (outcome) {
            case "success":
              responses.push(await run(token))
              break
            case "retried":
              sandbox.faults.inject({ type: "status", status: 502 })
              responses.push(await run(token))
              break
            case "rejected":
              sandbox.authority.refresh(token)
              responses.push(await run(token))
              break
            case "timeout":
              sandbox.faults.inject({ type: "hang", phase: "before" }, 4)
              responses.push(await run(token))
              break
            case "coalesced":
              sandbox.faults.inject({ type: "latency", ms: 50 })
              responses.push(...(await Promise.all([run(token), run(token)])))
              break
            case "reused": {
              const first = await run(token)
              responses.push(first, await run(token))
              break
            }
            case "bad_input":
              responses.push(await run(`${text}\u0000${token}`))
              break
            case "junk":
              responses.push(await run(text))
              break
          }
        }
      }),
      { numRuns: 12 }
    )

    for (const response of responses) await treeOf(response)
    const exported = receiver.bodies().map((body) => body.toString("latin1") + body.toString("utf8"))
    expect(exported.length).toBeGreaterThan(0)
    for (const secret of secrets) {
      for (let at = 0; at + 8 <= secret.length; at++) {
        const piece = secret.slice(at, at + 8)
        for (const body of exported) if (body.includes(piece)) throw new Error(`a piece of a token was exported`)
      }
    }
  }, 120_000)
})

describe("http/json", () => {
  it("exports the same tree as OTLP/JSON", async () => {
    const json = await ownReceiver()
    const env = tracedEnv(json.url, {
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: "gw-json",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test"
    })
    await withGateway(env, async (_, url) => {
      sandbox.faults.inject({ type: "status", status: 503 })
      const tree = await treeOf(await refresh(url, mint()), json)
      expect(json.contentTypes().every((type) => type.startsWith("application/json"))).toBe(true)
      expect(tree.named("http.client POST").map((span) => span.attributes["http.response.status_code"])).toEqual([
        503, 200
      ])
      expect(pathOf(tree, tree.named("http.client POST")[1]!)).toEqual([...upstreamPath, "http.client POST"])
      expect(tree.root.resource).toMatchObject({ "service.name": "gw-json", "deployment.environment.name": "test" })
    })
  })
})

describe("with REDIS_URL", () => {
  let redis: RedisServer | undefined
  afterAll(async () => {
    await redis?.stop()
  })

  it("the Redis commands join the coordinator's span, with db.* attributes and no key", async () => {
    redis = await startRedis()
    const env = tracedEnv(receiver.url, { REDIS_URL: redis.url, DDN_COORDINATION_SECRET: "x".repeat(40) })
    await withGateway(env, async (_, url) => {
      const tree = await treeOf(await refresh(url, mint()))
      const coordinator = tree.one("RefreshCoordinator.refresh")
      const commands = tree.spans.filter((span) => span.attributes["db.system.name"] === "redis")
      expect(commands.map((span) => span.name)).toEqual(expect.arrayContaining(["EVALSHA claim", "EVALSHA settle"]))
      for (const command of commands) {
        expect(command.kind).toBe(client)
        expect(pathOf(tree, command).slice(0, 3)).toEqual(["POST /graphql", "mutation", "RefreshCoordinator.refresh"])
        expect(Object.keys(command.attributes).sort()).toEqual(
          [
            "db.namespace",
            "db.operation.name",
            "db.stored_procedure.name",
            "db.system.name",
            "server.address",
            "server.port"
          ].filter((key) => key !== "db.stored_procedure.name" || command.attributes[key] !== undefined)
        )
      }
      expect(coordinator.attributes["ddn.refresh.source"]).toBe("upstream")
    })
  })
})

describe("a collector that is down or hung", () => {
  const metricOf = async (spawned: Spawned, reason: string): Promise<number> => {
    const metricsUrl = /^Metrics: (http:\/\/\S+)$/m.exec(spawned.stdout())![1]!
    const text = await (await fetch(metricsUrl)).text()
    const match = new RegExp(`^ddn_gateway_trace_spans_dropped_total\\{reason="${reason}"\\} (\\d+)$`, "m").exec(text)
    return Number(match?.[1])
  }

  it("hung: refreshes unaffected, spans beyond the queue dropped and counted, SIGTERM still exits", async () => {
    const hung = await ownReceiver("hang")
    const env = tracedEnv(hung.url, {
      OTEL_BSP_MAX_QUEUE_SIZE: "16",
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "8",
      SHUTDOWN_GRACE_MS: "1000"
    })
    await withGateway(env, async (spawned, url) => {
      for (let i = 0; i < 20; i++) {
        const response = await refresh(url, mint())
        expect(response.body.data.refreshToken.__typename).toBe("TokenPair")
      }
      expect(await metricOf(spawned, "queue_full")).toBeGreaterThan(0)
      expect(hung.requests()).toBeGreaterThan(0)
      spawned.child.kill("SIGTERM")
      expect(await spawned.exited).toEqual({ code: 0, signal: null })
    })
  })

  it("gone: refreshes unaffected, every failed export counted, SIGTERM still exits", async () => {
    const gone = await OtlpReceiver.start()
    const endpoint = gone.url
    await gone.stop()
    await withGateway(tracedEnv(endpoint, { SHUTDOWN_GRACE_MS: "1000" }), async (spawned, url) => {
      for (let i = 0; i < 5; i++) {
        expect((await refresh(url, mint())).body.data.refreshToken.__typename).toBe("TokenPair")
      }
      const deadline = Date.now() + 10_000
      while ((await metricOf(spawned, "export_failed")) === 0 && Date.now() < deadline) {
        await new Promise((wait) => setTimeout(wait, 50))
      }
      expect(await metricOf(spawned, "export_failed")).toBeGreaterThan(0)
      expect(await metricOf(spawned, "queue_full")).toBe(0)
      spawned.child.kill("SIGTERM")
      expect(await spawned.exited).toEqual({ code: 0, signal: null })
    })
  })

  it("a healthy collector gets the spans of a refresh answered just before SIGTERM", async () => {
    const late = await ownReceiver()
    // Batches every 10 s: only the shutdown's flush can deliver them in time.
    const env = tracedEnv(late.url, { OTEL_BSP_SCHEDULE_DELAY: "10000", SHUTDOWN_GRACE_MS: "5000" })
    await withGateway(env, async (spawned, url) => {
      const response = await refresh(url, mint())
      spawned.child.kill("SIGTERM")
      expect(await spawned.exited).toEqual({ code: 0, signal: null })
      expect(late.spans().filter((span) => span.traceId === traceIdOf(response)).length).toBe(5)
    })
  })
})

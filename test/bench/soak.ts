/**
 * `pnpm soak`: a bounded endurance run. Simulated users keep refresh chains going through the
 * gateway (`dist`, `NODE_ENV=production LOG_LEVEL=info`) in front of a sandbox that injects faults
 * (by default 10 % 503, 5 % 429 with `Retry-After: 1`, 1 % hangs, 1 % resets, 1 % malformed bodies,
 * a tenth of them after the token was rotated, 1–5 ms of latency), with racing tabs (three
 * concurrent refreshes of one token), clients that abort and resubmit, bad input and unknown tokens.
 *
 * Checks, each printed with its figures; any failure exits 1:
 * - every request is answered with a result (`TokenPair`, `RefreshTokenRejected`) or a mapped error
 *   code (`BAD_USER_INPUT`, `UPSTREAM_UNAVAILABLE`, `RATE_LIMITED`, `UPSTREAM_BAD_RESPONSE`), within
 *   the client's 25 s timeout: no `INTERNAL_SERVER_ERROR`, no HTTP 5xx, no transport error;
 * - no crash: the gateway is alive at the end and exits 0 on SIGTERM;
 * - RSS flat after warm-up (see {@link rssCriterion});
 * - no session lost where the upstream succeeded (see {@link lostSessionDefinition});
 * - racing answers agree: all `TokenPair`s for one refresh token carry the same new pair.
 *
 * Then an abuse phase (`internal/Abuse.ts`): honest users next to one abusive client (a flood of
 * random invalid tokens, requests aborted 50 ms after sending, forged `X-Forwarded-For` entries)
 * through a gateway behind one trusted proxy, in front of a sandbox limited to
 * {@link abuseUpstreamRps} requests/s like DDN; once with the gateway's protection off
 * (`RATE_LIMIT_PER_MINUTE=0`, printed for comparison) and once as shipped (judged):
 * - the honest users' success rate next to the abuser (every request answered with a pair) at least 99 %;
 * - their p99 latency next to the abuser under {@link abuseP99LimitMs} ms, a quarter of the refresh
 *   deadline: none of them waited out DDN's quota or its retries (the abuser still costs them CPU:
 *   a refused request costs the gateway about what a served one does, minus the DDN call; their p99
 *   alone, the phase's first third, is printed beside it);
 * - DDN calls per honest refresh at most 1.5 (judged, like the two above, on full runs only).
 *
 * Then a DDN outage phase (`internal/Outage.ts`): the honest users alone through a gateway as
 * shipped, the sandbox answering every refresh 503 for the middle half of it:
 * - DDN calls per refresh during the outage at most {@link outageCallsPerRefreshLimit} (the circuit
 *   breaker stops the calls; without it every refresh made its 4 attempts);
 * - the time from the outage's end to the first pair under {@link recoveryLimitSeconds} s (the
 *   breaker's 5 s open period, then one probe).
 *
 * Full runs (not `--smoke`) also write their summary into `RESULTS.md` beside this file.
 *
 * With `--instances N` (N > 1), N gateways share a Redis the soak starts (`REDIS_URL`), each request
 * goes to a random one (as behind a load balancer, so racing tabs land on different instances), and
 * Redis is killed 40 % into the run and restarted a second later; the checks then also require every
 * instance to have reported `degraded` meanwhile and `redis` again at the end.
 *
 *   pnpm soak [--smoke] [--seconds 300] [--users 40] [--seed 7] [--abuse-seconds 60] [--outage-seconds 60] [--instances 1]
 *
 * `SOAK_NODE_ARGS` adds Node flags to the soaked gateways, e.g. to look into a memory trend:
 * `SOAK_NODE_ARGS="--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=/tmp/heaps"`, then `kill -USR2` a gateway.
 */
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type RedisServer, startRedis } from "../support/RedisServer.js"
import * as Abuse from "./internal/Abuse.js"
import { between, sleep } from "./internal/Answers.js"
import * as Endpoints from "./internal/Endpoints.js"
import * as Load from "./internal/Load.js"
import * as Machine from "./internal/Machine.js"
import * as Options from "./internal/Options.js"
import * as Outage from "./internal/Outage.js"
import * as Processes from "./internal/Processes.js"
import * as Report from "./internal/Report.js"

/** What counts as a lost session, as printed. */
export const lostSessionDefinition = [
  "A chain is one simulated user's sequence of refresh tokens t0 → t1 → …; it ends when the gateway",
  "answers RefreshTokenRejected for the current token t. The soak then asks the sandbox",
  "(POST /sandbox/inspect) what became of t's rotation. 'lost': DDN rotated t but its 200 never",
  "reached the gateway (a fault struck after the rotation): DDN itself lost the session, and no",
  "gateway can get it back. 'delivered' or 'none': DDN's 200 for t reached the gateway (or t was",
  "never rotated) and the user still got no new pair: a LOST SESSION, which single-flight and the",
  "reuse window exist to prevent. Any lost session fails the soak."
].join("\n")

/** The RSS criterion, as printed. */
export const rssCriterion = (warmUpSeconds: number, limitMiB: number) =>
  `RSS is sampled every 2 s. After a warm-up of ${warmUpSeconds} s, the median of the last fifth of the samples may exceed the median of the first fifth by less than ${limitMiB} MiB (judged on runs of 60 s or more).`

const { values, smoke, switches } = Options.parse({
  usage: "pnpm soak [options]: mixed traffic through the gateway to a faulty sandbox",
  smokeEnv: "SOAK_SMOKE",
  specs: {
    seconds: { env: "SOAK_SECONDS", full: 300, smoke: 20, help: "how long traffic runs" },
    users: { env: "SOAK_USERS", full: 40, smoke: 20, help: "simulated users, each with a refresh chain" },
    seed: { env: "SOAK_SEED", full: 7, smoke: 7, help: "the sandbox's fault seed" },
    instances: {
      env: "SOAK_INSTANCES",
      full: 1,
      smoke: 1,
      help: "gateway instances; more than 1 coordinate through a Redis that is restarted mid-run"
    },
    "abuse-seconds": { env: "SOAK_ABUSE_SECONDS", full: 60, smoke: 12, help: "how long each abuse phase runs" },
    "outage-seconds": {
      env: "SOAK_OUTAGE_SECONDS",
      full: 60,
      smoke: 14,
      help: "how long the outage phase runs (DDN down for its middle half)"
    }
  },
  switches: { "no-write": { type: "boolean", help: "do not write the summary into RESULTS.md" } }
})
const seconds = values.seconds
const users = Math.round(values.users)
const instances = Math.max(1, Math.round(values.instances))
const warmUpSeconds = Math.min(60, Math.max(5, Math.round(seconds * 0.3)))
const rssLimitMiB = 16
const clientTimeoutMs = 25_000

/** DDN's global limit in the abuse phase, requests per second (the issue's DDN allowed 100). */
export const abuseUpstreamRps = 100
/** The honest users' p99 the abuse phase allows next to the abuser: a quarter of the 10 s deadline. */
export const abuseP99LimitMs = 2_500
const abuseSeconds = values["abuse-seconds"]
const outageSeconds = values["outage-seconds"]
/** DDN calls per honest refresh allowed during an outage (each refresh's 4 attempts made it 4). */
const outageCallsPerRefreshLimit = 1.5
/** How soon after an outage the first pair must come: the breaker's 5 s open period, a probe, and margin. */
const recoveryLimitSeconds = 10

const faultyUpstream = {
  SANDBOX_ERROR_RATE_503: "0.10",
  SANDBOX_RATE_LIMIT_RATE: "0.05",
  SANDBOX_RETRY_AFTER_S: "1",
  SANDBOX_HANG_RATE: "0.01",
  SANDBOX_RESET_RATE: "0.01",
  SANDBOX_MALFORMED_RATE: "0.01",
  SANDBOX_AFTER_PHASE_RATE: "0.1",
  SANDBOX_LATENCY_MS: "1-5",
  SANDBOX_SEED: String(values.seed)
}

/** How one request ended, as the client saw it. */
type Outcome =
  | "token_pair"
  | "rejected_expired"
  | "rejected_invalid"
  | "bad_user_input"
  | "upstream_unavailable"
  | "rate_limited"
  | "upstream_bad_response"
  | "aborted_by_client"
  | "internal_server_error"
  | "http_5xx"
  | "unexpected_answer"
  | "transport_error"
  | "client_timeout"

const failures: ReadonlySet<Outcome> = new Set([
  "internal_server_error",
  "http_5xx",
  "unexpected_answer",
  "transport_error",
  "client_timeout"
])

interface Answer {
  readonly outcome: Outcome
  readonly pair?: string
  readonly retryAfterSeconds?: number
  /** What went wrong, for the examples of failures: e.g. a transport error's code. */
  readonly detail?: string
}

const counts = new Map<Outcome, number>()
const count = (outcome: Outcome) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1)
const examples: Array<string> = []
const chains = { started: 0, refreshed: 0, endedByUpstream: 0, lost: 0, divergent: 0, wrongMapping: 0 }
const pairsByToken = new Map<string, string>()

/** The outcome of a request that got no answer. */
const unanswered = {
  TimedOut: "client_timeout",
  Aborted: "aborted_by_client",
  TransportError: "transport_error"
} as const satisfies Record<Exclude<Load.Sent["_tag"], "Answered">, Outcome>

/** Reads a gateway answer into an outcome. */
const classify = (status: number, body: string): Answer => {
  if (status >= 500) return { outcome: "http_5xx" }
  let json: {
    data?: { refreshToken?: { __typename?: string; reason?: string; refreshToken?: string } } | null
    errors?: ReadonlyArray<{ extensions?: { code?: string; retryAfterSeconds?: number } }>
  }
  try {
    json = JSON.parse(body)
  } catch {
    return { outcome: "unexpected_answer" }
  }
  const result = json.data?.refreshToken
  if (status === 200 && result?.__typename === "TokenPair" && typeof result.refreshToken === "string") {
    return { outcome: "token_pair", pair: result.refreshToken }
  }
  if (status === 200 && result?.__typename === "RefreshTokenRejected") {
    return { outcome: result.reason === "INVALID" ? "rejected_invalid" : "rejected_expired" }
  }
  const code = json.errors?.[0]?.extensions?.code
  switch (code) {
    case "BAD_USER_INPUT":
      return { outcome: "bad_user_input" }
    case "UPSTREAM_UNAVAILABLE":
      return { outcome: "upstream_unavailable" }
    case "RATE_LIMITED":
      return { outcome: "rate_limited", retryAfterSeconds: json.errors?.[0]?.extensions?.retryAfterSeconds ?? 1 }
    case "UPSTREAM_BAD_RESPONSE":
      return { outcome: "upstream_bad_response" }
    case "INTERNAL_SERVER_ERROR":
      return { outcome: "internal_server_error" }
    default:
      return { outcome: "unexpected_answer" }
  }
}

const main = async (): Promise<number> => {
  Processes.requireBuild()
  const machineStart = Machine.sample()
  const startedAt = Date.now()
  process.stdout.write(
    `pnpm soak${smoke ? " --smoke" : ""}: ${seconds} s, ${users} users, ${instances} gateway instance(s), sandbox faults ${JSON.stringify(faultyUpstream)}\n`
  )
  const sandbox = await Processes.sandbox(faultyUpstream)
  const redis: RedisServer | undefined = instances > 1 ? await startRedis() : undefined
  const shared =
    redis === undefined
      ? {}
      : { REDIS_URL: redis.url, DDN_COORDINATION_SECRET: "soak-coordination-secret-0123456789abcdef" }
  // Every simulated user here is 127.0.0.1 and refreshes far faster than a real client: this phase is
  // about faults, so the per-client limit is where no load reaches (Processes' default; the limiter runs).
  const gateways = await Promise.all(
    Array.from({ length: instances }, (_, i) =>
      Processes.gateway(
        sandbox.url,
        { LOG_LEVEL: "info", ...shared },
        Options.words(process.env.SOAK_NODE_ARGS ?? ""),
        instances > 1 ? `gateway-${i + 1}` : "gateway"
      )
    )
  )
  const agent = Load.keepAliveAgent(users * 4)
  /** The instance a request goes to: a random one, as a load balancer would spread them. */
  const anyGraphqlUrl = () => `${gateways[Math.floor(Math.random() * gateways.length)]!.url}/graphql`

  /** One refresh as a simulated user sends it, to any instance; counted by outcome. */
  const refresh = async (token: string, abortAfterMs?: number): Promise<Answer> => {
    const sent = await Load.send({ url: anyGraphqlUrl(), token, agent, timeoutMs: clientTimeoutMs, abortAfterMs })
    const answer: Answer =
      sent._tag === "Answered"
        ? classify(sent.status, sent.body)
        : sent._tag === "TransportError"
          ? {
              outcome: "transport_error",
              detail: `${sent.detail}, at ${((Date.now() - startedAt) / 1000).toFixed(1)} s`
            }
          : { outcome: unanswered[sent._tag] }
    count(answer.outcome)
    if (failures.has(answer.outcome) && examples.length < 10) {
      examples.push(answer.detail === undefined ? answer.outcome : `${answer.outcome} (${answer.detail})`)
    }
    return answer
  }

  const login = async () => {
    chains.started += 1
    const [token] = await Load.mintTokens(sandbox.url, 1)
    return token!
  }

  /** Checks a refresh token's answers agree: one new pair, and no rejection once a pair was given. */
  const recordPair = (token: string, pair: string) => {
    const earlier = pairsByToken.get(token)
    if (earlier !== undefined && earlier !== pair) chains.divergent += 1
    pairsByToken.set(token, pair)
  }

  /** When each session was lost (seconds into the run) and how its last answers read, for the summary. */
  const lostAt: Array<string> = []
  const loseSession = (answers: ReadonlyArray<Answer>) => {
    chains.lost += 1
    if (lostAt.length < 20) {
      lostAt.push(
        `${((Date.now() - startedAt) / 1000).toFixed(1)} s (${answers.map((answer) => answer.outcome).join(", ")})`
      )
    }
  }

  const endAt = Date.now() + seconds * 1000
  const user = async () => {
    let token = await login()
    while (Date.now() < endAt) {
      const scenario = Math.random()
      let answers: ReadonlyArray<Answer>
      if (scenario < 0.03) {
        const answer = await refresh(scenario < 0.015 ? "" : "bad\u0000token")
        if (answer.outcome !== "bad_user_input") chains.wrongMapping += 1
        continue
      } else if (scenario < 0.05) {
        await refresh(Math.random().toString(36).slice(2).padEnd(43, "x"))
        continue
      } else if (scenario < 0.15) {
        answers = await Promise.all([refresh(token), refresh(token), refresh(token)])
      } else if (scenario < 0.2) {
        await refresh(token, between(0, 20))
        answers = [await refresh(token)]
      } else {
        answers = [await refresh(token)]
      }

      for (const answer of answers) if (answer.pair !== undefined) recordPair(token, answer.pair)
      const pair = answers.find((answer) => answer.pair !== undefined)?.pair
      if (pair !== undefined) {
        if (answers.some((answer) => answer.outcome.startsWith("rejected"))) loseSession(answers)
        token = pair
        chains.refreshed += 1
        await sleep(between(0, 20))
        continue
      }
      if (answers.some((answer) => answer.outcome.startsWith("rejected"))) {
        const { rotation } = await Endpoints.inspect(sandbox.url, token)
        if (rotation === "lost") chains.endedByUpstream += 1
        else loseSession(answers)
        token = await login()
        continue
      }
      const limited = answers.find((answer) => answer.outcome === "rate_limited")
      await sleep(limited !== undefined ? Math.min(2, limited.retryAfterSeconds ?? 1) * 1000 : between(100, 300))
    }
  }

  const rssOf = new Map(
    gateways.map((gateway) => [gateway, [] as Array<{ readonly at: number; readonly bytes: number }>])
  )
  /** The V8 heap in use, scraped with each RSS sample: a leak grows it, allocator or young-generation slack does not. */
  const heapOf = new Map(
    gateways.map((gateway) => [gateway, [] as Array<{ readonly at: number; readonly bytes: number }>])
  )
  const sampleHeap = async (gateway: Processes.ServedGateway, at: number) => {
    if (gateway.metricsUrl === undefined) return
    try {
      const bytes = Endpoints.counter(await Endpoints.metrics(gateway.metricsUrl), "nodejs_heap_size_used_bytes")
      if (!Number.isNaN(bytes)) heapOf.get(gateway)!.push({ at, bytes })
    } catch {
      // A gateway that is gone or busy has no sample this time.
    }
  }
  const sampler = setInterval(() => {
    const at = (Date.now() - startedAt) / 1000
    for (const [gateway, samples] of rssOf) {
      if (!gateway.alive()) continue
      samples.push({ at, bytes: gateway.rss() })
      void sampleHeap(gateway, at)
    }
  }, 2000)
  const progress = setInterval(() => {
    const done = [...counts.values()].reduce((sum, n) => sum + n, 0)
    const latest = [...rssOf.values()].map((samples) => ((samples.at(-1)?.bytes ?? 0) / 2 ** 20).toFixed(1))
    process.stdout.write(
      `  ${Math.round((Date.now() - startedAt) / 1000)} s: ${done} requests, RSS ${latest.join(" / ")} MiB\n`
    )
  }, 15_000)

  const coordinationOf = (gateway: Processes.Served) => Endpoints.coordination(gateway.url)
  /** The Redis restart: killed 40 % into the run, started again a second later; what the instances said meanwhile. */
  const restart =
    redis === undefined
      ? Promise.resolve(undefined)
      : (async () => {
          await sleep(seconds * 400)
          const killedAt = (Date.now() - startedAt) / 1000
          await redis.kill()
          const sawDegraded = new Set<Processes.Served>()
          const deadline = Date.now() + 1000
          while (Date.now() < deadline) {
            for (const gateway of gateways) if ((await coordinationOf(gateway)) === "degraded") sawDegraded.add(gateway)
            await sleep(50)
          }
          await redis.start()
          process.stdout.write(`  ${killedAt.toFixed(0)} s: Redis killed, started again after 1 s\n`)
          return { killedAt, sawDegraded: sawDegraded.size }
        })()

  await Promise.all(Array.from({ length: users }, user))
  const restarted = await restart
  clearInterval(sampler)
  clearInterval(progress)
  agent.destroy()

  const alive = gateways.every((gateway) => gateway.alive())
  const stats = await Endpoints.sandboxStats(sandbox.url)
  const metricTexts = await Promise.all(gateways.map((gateway) => Endpoints.metrics(gateway.metricsUrl!)))
  const finalCoordination = await Promise.all(gateways.map(coordinationOf))
  const exitCodes = await Promise.all(gateways.map((gateway) => gateway.stop()))
  await sandbox.stop()
  await redis?.stop()

  const mib = (bytes: number) => bytes / 2 ** 20
  /** Each instance's RSS (or heap) after warm-up: the medians of its first and last fifths, and the slope. */
  const trendOf = (rss: ReadonlyArray<{ readonly at: number; readonly bytes: number }>) => {
    // Heap scrapes answer out of order now and then: by the time they were asked.
    const afterWarmUp = rss.filter((sample) => sample.at >= warmUpSeconds).sort((a, b) => a.at - b.at)
    const fifth = Math.max(1, Math.floor(afterWarmUp.length / 5))
    return {
      samples: rss.length,
      judged: seconds >= 60 && afterWarmUp.length >= 5,
      first: Load.median(afterWarmUp.slice(0, fifth).map((sample) => mib(sample.bytes))),
      last: Load.median(afterWarmUp.slice(-fifth).map((sample) => mib(sample.bytes))),
      slope: slopePerMinute(afterWarmUp.map((sample) => [sample.at, mib(sample.bytes)] as const)),
      max: mib(Math.max(...rss.map((sample) => sample.bytes)))
    }
  }
  const rssTrends = [...rssOf.values()].map(trendOf)
  const heapTrends = [...heapOf.values()].map(trendOf)
  const rssJudged = rssTrends.every((trend) => trend.judged)
  const worstGrowth = Math.max(...rssTrends.map((trend) => trend.last - trend.first))
  const total = [...counts.values()].reduce((sum, n) => sum + n, 0)
  const failed = [...counts].filter(([outcome]) => failures.has(outcome)).reduce((sum, [, n]) => sum + n, 0)
  /** A counter summed over the instances. */
  const counter = (name: string) => metricTexts.reduce((sum, text) => sum + Endpoints.counter(text, name), 0)

  const lines: Array<string> = []
  const say = (line: string) => {
    lines.push(line)
    process.stdout.write(`${line}\n`)
  }
  say(`\n${total} requests in ${((Date.now() - startedAt) / 1000).toFixed(0)} s; outcomes:`)
  for (const [outcome, n] of [...counts].sort((a, b) => b[1] - a[1])) {
    say(`  ${outcome.padEnd(24)} ${String(n).padStart(7)}${failures.has(outcome) ? "  (failure)" : ""}`)
  }
  say(
    `chains: ${chains.started} started, ${chains.refreshed} refreshes, ${chains.endedByUpstream} ended because DDN lost a rotation's response, ${chains.lost} lost sessions`
  )
  say(
    `gateway: ${counter("ddn_refresh_coalesced_total")} coalesced, ${counter("ddn_refresh_reused_total")} reused, ${counter("ddn_upstream_retries_total")} upstream retries`
  )
  say(`sandbox: ${JSON.stringify(stats)}`)
  for (const [i, trend] of rssTrends.entries()) {
    say(
      `RSS${instances > 1 ? ` of gateway-${i + 1}` : ""} (MiB): ${trend.samples} samples, first fifth after warm-up ${trend.first.toFixed(1)}, last fifth ${trend.last.toFixed(1)}, slope ${trend.slope.toFixed(2)} MiB/min, max ${trend.max.toFixed(1)}`
    )
    const heap = heapTrends[i]!
    say(
      heap.samples === 0
        ? "  V8 heap in use: no samples (metrics not scraped)"
        : `  V8 heap in use (MiB): ${heap.samples} samples, first fifth after warm-up ${heap.first.toFixed(1)}, last fifth ${heap.last.toFixed(1)}, slope ${heap.slope.toFixed(2)} MiB/min, max ${heap.max.toFixed(1)}`
    )
  }
  if (restarted !== undefined) {
    say(
      `Redis killed at ${restarted.killedAt.toFixed(0)} s and started again 1 s later: ${restarted.sawDegraded} of ${instances} instances said degraded meanwhile; at the end they said ${finalCoordination.join(", ")}; ${counter("ddn_coordination_fallbacks_total")} refreshes coordinated locally, ${counter("ddn_coordination_takeovers_total")} takeovers`
    )
  }
  say(`\n${rssCriterion(warmUpSeconds, rssLimitMiB)}\n\n${lostSessionDefinition}\n`)

  const abuseOptions = {
    seconds: abuseSeconds,
    honestUsers: users,
    upstreamRps: abuseUpstreamRps,
    // One client at 1.5 × DDN's whole budget: enough to starve everyone without protection, and what
    // this shared 2-core machine's gateway serves with room to spare (a 429 costs ~1–2 ms of CPU here).
    floodRps: 100,
    abortRps: 50
  }
  say(
    `abuse phases: ${users} honest users (one address each, a refresh every 1–2 s), one abuser (${abuseOptions.floodRps} invalid tokens/s, ${abuseOptions.abortRps} requests/s aborted after 50 ms), DDN limited to ${abuseUpstreamRps} requests/s`
  )
  const unprotected = await Abuse.run({ ...abuseOptions, gatewayEnv: { RATE_LIMIT_PER_MINUTE: "0" } })
  for (const line of Abuse.describe("protection off (RATE_LIMIT_PER_MINUTE=0), for comparison:", unprotected)) {
    say(line)
  }
  const protectedRun = await Abuse.run({ ...abuseOptions, gatewayEnv: { RATE_LIMIT_PER_MINUTE: "60" } })
  for (const line of Abuse.describe("protection on (RATE_LIMIT_PER_MINUTE=60, the default):", protectedRun)) say(line)
  const abused = protectedRun.abused

  say(
    `outage phase: ${users} honest users (a refresh every 1–2 s), DDN answering 503 to everything for the middle half of ${outageSeconds} s`
  )
  const outage = await Outage.run({ seconds: outageSeconds, honestUsers: users })
  for (const line of Outage.describe("DDN outage, the gateway as shipped:", outage)) say(line)

  const others = Machine.othersLoad(machineStart, Machine.sample(), (Date.now() - startedAt) / 1000)
  say(`other processes kept ${others.toFixed(2)} cores busy on average during the run\n`)

  // Short phases are dominated by start-up (a fresh gateway warming up, each client's first full bucket).
  const notJudged = smoke ? "; not judged on a smoke run" : ""
  const checks: ReadonlyArray<readonly [string, boolean, string]> = [
    [
      "every request answered with a result or a mapped error",
      failed === 0,
      `${failed} failures${examples.length > 0 ? ` (e.g. ${examples.join(", ")})` : ""}`
    ],
    ["bad input mapped to BAD_USER_INPUT", chains.wrongMapping === 0, `${chains.wrongMapping} otherwise`],
    [
      "no crash",
      alive && exitCodes.every((code) => code === 0),
      `alive at the end: ${alive}, exit code(s) ${exitCodes.join(", ")}`
    ],
    [
      "RSS flat after warm-up",
      !rssJudged || worstGrowth < rssLimitMiB,
      rssJudged ? `${worstGrowth.toFixed(1)} MiB (limit ${rssLimitMiB})` : "not judged (run shorter than 60 s)"
    ],
    ...(restarted === undefined
      ? []
      : [
          [
            "every instance degraded while Redis was away, and coordinated through it again after",
            restarted.sawDegraded === instances && finalCoordination.every((mode) => mode === "redis"),
            `${restarted.sawDegraded} of ${instances} said degraded; at the end: ${finalCoordination.join(", ")}`
          ] as const
        ]),
    [
      "no session lost where the upstream succeeded",
      chains.lost === 0,
      `${chains.lost} lost sessions${lostAt.length > 0 ? `, at ${lostAt.join("; ")}` : ""}`
    ],
    ["racing answers agree", chains.divergent === 0, `${chains.divergent} tokens answered with different pairs`],
    ["traffic flowed", (counts.get("token_pair") ?? 0) > 0, `${counts.get("token_pair") ?? 0} token pairs`],
    [
      "under abuse, honest users succeed",
      smoke || abused.successRate >= 0.99,
      `${(abused.successRate * 100).toFixed(2)} % of ${abused.requests} requests answered with a pair (target ≥ 99 %; ${(unprotected.abused.successRate * 100).toFixed(2)} % without protection)${notJudged}`
    ],
    [
      "under abuse, honest latency",
      smoke || abused.p99 < abuseP99LimitMs,
      `p99 ${abused.p99.toFixed(1)} ms, ${protectedRun.quiet.p99.toFixed(1)} ms alone (target < ${abuseP99LimitMs} ms; ${unprotected.abused.p99.toFixed(1)} ms without protection)${notJudged}`
    ],
    [
      "under abuse, DDN calls per honest refresh",
      smoke || protectedRun.upstream.callsPerHonestRefresh <= 1.5,
      `${protectedRun.upstream.callsPerHonestRefresh.toFixed(2)} (target ≤ 1.5; ${unprotected.upstream.callsPerHonestRefresh.toFixed(2)} without protection)${notJudged}`
    ],
    [
      "during an outage, DDN calls per refresh",
      outage.callsPerRefresh <= outageCallsPerRefreshLimit,
      `${outage.callsPerRefresh.toFixed(2)} (${outage.upstreamCalls} calls for ${outage.refreshesDuringOutage} refreshes; target ≤ ${outageCallsPerRefreshLimit}, 4 before the circuit breaker)`
    ],
    [
      "after an outage, recovery",
      outage.recoverySeconds < recoveryLimitSeconds && outage.pairsAfter > 0,
      `first pair ${outage.recoverySeconds.toFixed(2)} s after DDN came back, ${outage.pairsAfter} pairs after (target < ${recoveryLimitSeconds} s)`
    ],
    [
      "abuse and outage phases end cleanly",
      unprotected.gatewayExitCode === 0 && protectedRun.gatewayExitCode === 0 && outage.gatewayExitCode === 0,
      `gateway exit codes ${unprotected.gatewayExitCode}, ${protectedRun.gatewayExitCode} and ${outage.gatewayExitCode} (outage phase)`
    ]
  ]
  for (const [name, pass, detail] of checks) say(`${pass ? "PASS" : "FAIL"}  ${name}: ${detail}`)
  if (!smoke && switches["no-write"] !== true) {
    const summary = [
      `Run on ${new Date(startedAt).toISOString()} with \`pnpm soak${process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : ""}\` on ${Report.machine()}: ${seconds} s, ${users} users, ${instances} gateway instance(s), sandbox faults \`${JSON.stringify(faultyUpstream)}\`, the gateway from \`dist\` with \`NODE_ENV=production LOG_LEVEL=info\`.`,
      "",
      "```",
      ...lines.map((line) => line.trim()).filter((line) => line !== ""),
      "```"
    ].join("\n")
    Report.writeMarkdown(
      join(fileURLToPath(new URL(".", import.meta.url)), "RESULTS.md"),
      summary,
      instances > 1 ? "soak-instances:results" : "soak:results"
    )
  }
  return checks.every(([, pass]) => pass) ? 0 : 1
}

/** The least-squares slope of `(seconds, MiB)` points, in MiB per minute. */
const slopePerMinute = (points: ReadonlyArray<readonly [number, number]>): number => {
  if (points.length < 2) return 0
  const n = points.length
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0)
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0)
  return variance === 0 ? 0 : (covariance / variance) * 60
}

Processes.runMain(main)

/**
 * Reading V8 CPU profiles (`node --cpu-prof`): self time per function, and per package, as shares of
 * the samples taken while the process was not idle.
 */
import { relative } from "node:path"
import { fileURLToPath } from "node:url"

/** The parts of a `.cpuprofile` this module reads. */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number
    readonly callFrame: {
      readonly functionName: string
      readonly url: string
      readonly lineNumber: number
    }
    readonly children?: ReadonlyArray<number>
  }>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** Self time of one function (or of a whole package). */
export interface Entry {
  readonly name: string
  readonly where: string
  readonly selfMs: number
  /** Share of the busy (non-idle) time, 0–1. */
  readonly share: number
}

/** A profile's busy time, and where it went. */
export interface Summary {
  readonly busyMs: number
  readonly idleMs: number
  readonly functions: ReadonlyArray<Entry>
  readonly packages: ReadonlyArray<Entry>
  /** Self time by layer, Node's own frames charged to the nearest caller's package (see {@link layers}). */
  readonly layers: ReadonlyArray<Entry>
}

/** The layers of a gateway request, by the packages whose code runs in them. */
export const layers: ReadonlyArray<{ readonly name: string; readonly packages: RegExp }> = [
  // wasm: undici's llhttp response parser.
  {
    name: "core: Effect runtime, @ddn/auth, HTTP client",
    packages: /^(effect|@effect\/.*|@ddn\/auth|undici|wasm:.*)$/
  },
  {
    name: "GraphQL: yoga, its Fetch API layer, graphql-js",
    packages:
      /^(graphql-yoga|@graphql-yoga\/.*|@whatwg-node\/.*|@envelop\/.*|@graphql-tools\/.*|graphql|@escape\.tech\/.*|lru-cache)$/
  },
  { name: "gateway: routes, logs, metrics", packages: /^(@ddn\/gateway|prom-client)$/ },
  { name: "garbage collector", packages: /^\(garbage collector\)$/ },
  { name: "Node with no JS caller: HTTP parsing, sockets, timers", packages: /^\(node\)$/ }
]

const root = fileURLToPath(new URL("../../../", import.meta.url))

/** Where a script URL lives: a package name (from `node_modules` or the workspace) or `node:` internals. */
export const packageOf = (url: string): string => {
  if (url === "") return "(native)"
  if (url.startsWith("node:")) return "node:internal"
  const path = url.startsWith("file://") ? fileURLToPath(url) : url
  const modules = path.lastIndexOf("/node_modules/")
  if (modules !== -1) {
    const [scope, name] = path.slice(modules + "/node_modules/".length).split("/")
    return scope?.startsWith("@") ? `${scope}/${name}` : (scope ?? path)
  }
  const local = relative(root, path)
  const match = /^(packages|apps)\/([^/]+)\//.exec(local)
  return match === null ? local : `@ddn/${match[2]}`
}

const shortWhere = (url: string, line: number): string => {
  if (url === "") return ""
  const path = url.startsWith("file://") ? fileURLToPath(url) : url
  const modules = path.lastIndexOf("/node_modules/")
  const shown = modules !== -1 ? path.slice(modules + "/node_modules/".length) : relative(root, path)
  return `${shown}:${line + 1}`
}

/** Self time per function and per package. */
export const summarise = (profile: CpuProfile): Summary => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  /** The package of the nearest frame that is not Node's own (`node:` or native). */
  const attributedPackage = (id: number): string => {
    if (byId.get(id)?.functionName === "(garbage collector)") return "(garbage collector)"
    for (let current: number | undefined = id; current !== undefined; current = parentOf.get(current)) {
      const url = byId.get(current)?.url ?? ""
      if (url !== "" && !url.startsWith("node:")) return packageOf(url)
    }
    return "(node)"
  }
  const byLayer = new Map<string, number>()
  const selfById = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!
    selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  }
  const functions = new Map<string, { name: string; where: string; selfMs: number }>()
  const packages = new Map<string, number>()
  let idleMs = 0
  let totalMs = 0
  for (const [id, ms] of selfById) {
    const frame = byId.get(id)!
    totalMs += ms
    if (frame.functionName === "(idle)") {
      idleMs += ms
      continue
    }
    const name = frame.functionName === "" ? "(anonymous)" : frame.functionName
    const where = shortWhere(frame.url, frame.lineNumber)
    const key = `${name} ${where}`
    const entry = functions.get(key) ?? { name, where, selfMs: 0 }
    entry.selfMs += ms
    functions.set(key, entry)
    const pkg = frame.url === "" ? name : packageOf(frame.url)
    packages.set(pkg, (packages.get(pkg) ?? 0) + ms)
    const attributed = attributedPackage(id)
    const layer = layers.find((candidate) => candidate.packages.test(attributed))?.name ?? `other: ${attributed}`
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + ms)
  }
  const busyMs = totalMs - idleMs
  const rank = <A extends { selfMs: number }>(entries: Iterable<A>) =>
    [...entries].sort((a, b) => b.selfMs - a.selfMs).map((entry) => ({ ...entry, share: entry.selfMs / busyMs }))
  return {
    busyMs,
    idleMs,
    functions: rank(functions.values()),
    packages: rank([...packages].map(([name, selfMs]) => ({ name, where: "", selfMs }))),
    layers: rank([...byLayer].map(([name, selfMs]) => ({ name, where: "", selfMs })))
  }
}

const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)} %`

/** A text table of the top `top` functions (optionally only those whose name or file contains `filter`) and packages. */
export const format = (summary: Summary, top = 30, filter?: string): string => {
  const functions =
    filter === undefined
      ? summary.functions
      : summary.functions.filter((entry) => entry.name.includes(filter) || entry.where.includes(filter))
  return [
    `busy ${summary.busyMs.toFixed(0)} ms, idle ${summary.idleMs.toFixed(0)} ms; self time as a share of busy time`,
    "",
    "by layer (Node's own frames charged to their caller):",
    ...summary.layers.slice(0, 8).map((entry) => `${pct(entry.share)}  ${entry.name}`),
    "",
    "by package:",
    ...summary.packages.slice(0, 15).map((entry) => `${pct(entry.share)}  ${entry.name}`),
    "",
    `top functions${filter === undefined ? "" : ` matching "${filter}"`}:`,
    ...functions.slice(0, top).map((entry) => `${pct(entry.share)}  ${entry.name}  ${entry.where}`)
  ].join("\n")
}

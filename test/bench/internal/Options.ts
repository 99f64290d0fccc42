/**
 * Command-line flags with environment fallbacks for the bench and soak scripts: a flag wins, then
 * the variable, then the default (which `--smoke` may replace).
 */
import { parseArgs } from "node:util"

/** A flag's spec: its variable and its defaults, full and smoke. */
export interface Spec {
  readonly env: string
  readonly full: number
  readonly smoke: number
  readonly help: string
}

/** Parsed numbers, plus the switches. */
export interface Parsed<K extends string> {
  readonly values: Readonly<Record<K, number>>
  readonly smoke: boolean
  readonly switches: Readonly<Record<string, boolean | string | undefined>>
}

/**
 * Reads `--name value` numbers per `specs`, `--smoke` (or `smokeEnv=1`), and the extra `switches`
 * (booleans and strings). Prints usage and exits on `--help` or a bad number.
 */
export const parse = <K extends string>(options: {
  readonly usage: string
  readonly smokeEnv: string
  readonly specs: Readonly<Record<K, Spec>>
  readonly switches?: Readonly<Record<string, { readonly type: "boolean" | "string"; readonly help: string }>>
}): Parsed<K> => {
  const names = Object.keys(options.specs) as Array<K>
  const { values } = parseArgs({
    options: {
      smoke: { type: "boolean" },
      help: { type: "boolean" },
      ...Object.fromEntries(names.map((name) => [name, { type: "string" as const }])),
      ...Object.fromEntries(Object.entries(options.switches ?? {}).map(([name, spec]) => [name, { type: spec.type }]))
    },
    strict: true,
    allowPositionals: false
  })
  const usage = () =>
    [
      options.usage,
      "",
      `  --smoke                 a short run (or ${options.smokeEnv}=1)`,
      ...names.map((name) => {
        const spec = options.specs[name]
        return `  --${name.padEnd(22)}${spec.help} (${spec.env}; default ${spec.full}, smoke ${spec.smoke})`
      }),
      ...Object.entries(options.switches ?? {}).map(([name, spec]) => `  --${name.padEnd(22)}${spec.help}`)
    ].join("\n")
  if (values.help === true) {
    process.stdout.write(`${usage()}\n`)
    process.exit(0)
  }
  const smoke = values.smoke === true || process.env[options.smokeEnv] === "1"
  const numbers = {} as Record<K, number>
  for (const name of names) {
    const spec = options.specs[name]
    const raw = (values as Record<string, unknown>)[name] ?? process.env[spec.env]
    const value = raw === undefined || raw === "" ? (smoke ? spec.smoke : spec.full) : Number(raw)
    if (!Number.isFinite(value) || value <= 0) {
      process.stderr.write(`Invalid --${name} / ${spec.env}: expected a positive number, got ${String(raw)}\n`)
      process.exit(2)
    }
    numbers[name] = value
  }
  const switches: Record<string, boolean | string | undefined> = {}
  for (const name of Object.keys(options.switches ?? {})) {
    switches[name] = (values as Record<string, boolean | string | undefined>)[name]
  }
  return { values: numbers, smoke, switches }
}

/** The space-separated words of `text` (Node flags, `KEY=VALUE` pairs), empty ones dropped. */
export const words = (text: string): Array<string> => text.split(" ").filter((word) => word !== "")

/**
 * The top self-time functions of a V8 CPU profile (`node --cpu-prof`), grouped by function and file,
 * with the share of all samples; idle and GC are listed as themselves.
 *
 *   node --import tsx test/bench/profile-summary.ts <file.cpuprofile> [top=30] [filter]
 */
import { readFileSync } from "node:fs"
import * as Profiles from "./internal/Profiles.js"

const [file, top = "30", filter] = process.argv.slice(2)
if (file === undefined) throw new Error("usage: profile-summary.ts <file.cpuprofile> [top] [filter]")
const summary = Profiles.summarise(JSON.parse(readFileSync(file, "utf8")) as Profiles.CpuProfile)
process.stdout.write(`${Profiles.format(summary, Number(top), filter)}\n`)

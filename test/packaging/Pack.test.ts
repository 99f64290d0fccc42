/**
 * The packages as others get them: `pnpm pack` (which builds through `prepack`), then, for
 * `@ddn/auth`, an install of the tarball next to `effect`, `@effect/platform` and
 * `@effect/platform-node` from the registry (the workspace's versions) in a scratch project under the
 * OS temp dir, a strict compile of a small consumer, and a run of it against a sandbox.
 */
import { execFile } from "node:child_process"
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { SandboxServer } from "@ddn/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const exec = promisify(execFile)
const root = fileURLToPath(new URL("../..", import.meta.url))
const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir() }

let scratch: string

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "ddn-pack-"))
})

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true })
})

/** Packs the workspace package in `directory` into the scratch dir; the tarball's path and files. */
const pack = async (directory: string) => {
  const destination = join(scratch, "tarballs")
  await mkdir(destination, { recursive: true })
  const { stdout } = await exec("pnpm", ["pack", "--json", "--pack-destination", destination], {
    cwd: join(root, directory),
    env,
    maxBuffer: 16 * 1024 * 1024
  })
  // The JSON report follows prepack's output.
  const { filename } = JSON.parse(stdout.slice(stdout.indexOf("\n{") + 1)) as { filename: string }
  const { stdout: listing } = await exec("tar", ["-tzf", filename], { env })
  const files = listing
    .split("\n")
    .filter(Boolean)
    .map((file) => file.replace(/^package\//, ""))
  const manifest = JSON.parse((await exec("tar", ["-xzOf", filename, "package/package.json"], { env })).stdout)
  return { filename, files, manifest }
}

const workspaceVersion = (name: string) =>
  (createRequire(join(root, "packages/auth/package.json"))(`${name}/package.json`) as { version: string }).version

const license = () => readFile(join(root, "LICENSE"), "utf8")

const expectPublishable = async (packed: Awaited<ReturnType<typeof pack>>, directory: string) => {
  const { files, manifest } = packed
  expect(files).toEqual(
    expect.arrayContaining(["README.md", "LICENSE", "package.json", "dist/index.js", "dist/index.d.ts"])
  )
  expect(files.filter((file) => /tsbuildinfo|\.test\.|^test\//.test(file))).toEqual([])
  expect(manifest.license).toBe("MIT")
  expect(manifest.types).toBe("./dist/index.d.ts")
  expect(manifest.repository).toMatchObject({ type: "git", directory })
  expect(manifest.private).toBeUndefined()
  expect(JSON.stringify(manifest.exports)).not.toContain("@ddn/source")
  expect(JSON.stringify(manifest)).not.toContain("workspace:")
  const packedLicense = (await exec("tar", ["-xzOf", packed.filename, "package/LICENSE"], { env })).stdout
  expect(packedLicense).toBe(await license())
}

describe("packages as installed from their tarballs", () => {
  it("@ddn/gateway and @ddn/sandbox pack with README, LICENSE, types, and the gateway's bin and client entry", async () => {
    const [gateway, sandbox] = [await pack("apps/gateway"), await pack("packages/sandbox")]
    await expectPublishable(gateway, "apps/gateway")
    await expectPublishable(sandbox, "packages/sandbox")
    expect(gateway.manifest.bin).toEqual({ "ddn-gateway": "./dist/main.js" })
    expect(gateway.files).toEqual(expect.arrayContaining(["dist/main.js", "dist/client/index.d.ts", "schema.graphql"]))
    expect(gateway.manifest.exports["./client"]).toEqual({
      types: "./dist/client/index.d.ts",
      default: "./dist/client/index.js"
    })
    expect(gateway.manifest.dependencies["@ddn/sandbox"]).toBe(sandbox.manifest.version)
    const main = (await exec("tar", ["-xzOf", gateway.filename, "package/dist/main.js"], { env })).stdout
    expect(main.startsWith("#!/usr/bin/env node\n")).toBe(true)
  }, 120_000)

  it("@ddn/auth installs next to effect from the registry, compiles strictly and refreshes against the sandbox", async () => {
    const auth = await pack("packages/auth")
    await expectPublishable(auth, "packages/auth")
    expect(Object.keys(auth.manifest.peerDependencies).sort()).toEqual([
      "@effect/platform",
      "@effect/platform-node",
      "effect",
      "ioredis"
    ])
    // ioredis only for the `@ddn/auth/redis` entry point: optional, so the consumer below goes without it.
    // @effect/platform-node only for the `@ddn/auth/node` entry point, which the consumer below uses.
    expect(auth.manifest.peerDependenciesMeta).toEqual({
      "@effect/platform-node": { optional: true },
      ioredis: { optional: true }
    })
    expect(auth.manifest.dependencies ?? {}).toEqual({})

    const consumer = join(scratch, "consumer")
    await mkdir(join(consumer, "src"), { recursive: true })
    await writeFile(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
    await writeFile(
      join(consumer, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2022"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          types: ["node"],
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          skipLibCheck: false,
          rootDir: "src",
          outDir: "dist"
        },
        include: ["src"]
      })
    )
    await writeFile(
      join(consumer, "src/index.ts"),
      `import { DdnAuthClient, type RefreshError, TokenGrant } from "@ddn/auth"
import { DdnAuthNode } from "@ddn/auth/node"
import { Effect, Redacted } from "effect"

const [apiUrl = "", refreshToken = ""] = process.argv.slice(2)

const outcome = (error: RefreshError.RefreshError): string => {
  switch (error._tag) {
    case "RefreshTokenExpired":
    case "RefreshTokenInvalid":
      return "sign in again"
    case "RateLimited":
    case "UpstreamUnavailable":
      return "retry later"
    case "UpstreamBadResponse":
    case "InvalidInput":
      return "bug"
  }
}

const program = Effect.gen(function* () {
  const client = yield* DdnAuthClient.DdnAuthClient
  const grant: TokenGrant.TokenGrant = yield* client.refresh(Redacted.make(refreshToken))
  const again = yield* Effect.flip(client.refresh(Redacted.make(refreshToken)))
  return {
    tokenType: grant.tokenType,
    expiresIn: grant.expiresIn,
    rotated: Redacted.value(grant.refreshToken) !== refreshToken,
    reused: again._tag,
    advice: outcome(again)
  }
})

const result = await Effect.runPromise(program.pipe(Effect.provide(DdnAuthNode.layerOptions({ apiUrl }))))
process.stdout.write(JSON.stringify(result))
`
    )

    const versions = ["effect", "@effect/platform", "@effect/platform-node"].map(
      (name) => `${name}@${workspaceVersion(name)}`
    )
    const typesNode = `@types/node@${(createRequire(join(root, "package.json"))("@types/node/package.json") as { version: string }).version}`
    await exec(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--loglevel=error",
        auth.filename,
        ...versions,
        typesNode
      ],
      { cwd: consumer, env, maxBuffer: 16 * 1024 * 1024, timeout: 180_000 }
    )

    const tsc = join(root, "node_modules/typescript/bin/tsc")
    await exec(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: consumer, env, timeout: 120_000 }).catch(
      (error: { stdout: string }) => {
        throw new Error(`the consumer does not compile:\n${error.stdout}`)
      }
    )

    const sandbox = await SandboxServer.start()
    try {
      const { refreshToken } = sandbox.authority.mintSession("consumer")
      const { stdout } = await exec(process.execPath, ["dist/index.js", sandbox.url, refreshToken], {
        cwd: consumer,
        env,
        timeout: 60_000
      })
      expect(JSON.parse(stdout)).toEqual({
        tokenType: "Bearer",
        expiresIn: 3600,
        rotated: true,
        reused: "RefreshTokenExpired",
        advice: "sign in again"
      })
    } finally {
      await sandbox.stop()
    }
  }, 240_000)
})

import { type ChildProcess, spawn } from "node:child_process"
import { mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { build } from "esbuild"
import { DdnAuthClient } from "../src/DdnAuthClient.js"
import * as DdnAuthNode from "../src/node/DdnAuthNode.js"
import { TokenGrant } from "../src/TokenGrant.js"
import * as TokenSession from "../src/TokenSession.js"
import * as TokenStore from "../src/TokenStore.js"
import { numberOf } from "./fixtures/numberedSession.js"
import { failure } from "./utils/exits.js"
import { makeFakeDdn, secretMarker } from "./utils/FakeDdn.js"

const NodeFiles = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

const grant = (n = 1) =>
  TokenGrant.fromResponse(
    {
      accessToken: Redacted.make(`${secretMarker}-access-${n}`),
      refreshToken: Redacted.make(`${secretMarker}-refresh-${n}`),
      expiresIn: 3600,
      tokenType: "Bearer"
    },
    1_700_000_000_000
  )

/** A file store in a fresh temporary directory, removed with the scope. */
const fileStore = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "ddn-token-store-" })
  const file = path.join(directory, "session.json")
  const store = yield* TokenStore.makeFile(file)
  return { fs, directory, file, store }
})

describe("TokenStore.layerMemory", () => {
  it.effect("starts from its seed and keeps the last save", () =>
    Effect.gen(function* () {
      const store = yield* TokenStore.TokenStore
      expect(Option.map(yield* store.load, (session) => Redacted.value(session.refreshToken))).toEqual(
        Option.some(`${secretMarker}-refresh-1`)
      )
      yield* store.save(new TokenStore.RefreshTokenOnly({ refreshToken: Redacted.make("rt-2") }))
      const loaded = Option.getOrThrow(yield* store.load)
      expect(TokenStore.isGrant(loaded)).toBe(false)
      expect(Redacted.value(loaded.refreshToken)).toBe("rt-2")
    }).pipe(Effect.provide(TokenStore.layerMemory(grant())))
  )

  it.effect("is empty without a seed", () =>
    Effect.gen(function* () {
      const store = yield* TokenStore.TokenStore
      expect(yield* store.load).toEqual(Option.none())
    }).pipe(Effect.provide(TokenStore.layerMemory()))
  )
})

describe("TokenStore.seed and layerSeeded", () => {
  const storedToken = Effect.flatMap(TokenStore.TokenStore, (store) =>
    Effect.map(
      store.load,
      Option.map((session) => Redacted.value(session.refreshToken))
    )
  )

  it.effect("saves a sign-in's refresh token into an empty store", () =>
    Effect.gen(function* () {
      expect(yield* TokenStore.seed(Redacted.make("signed-in"))).toBe(true)
      expect(yield* storedToken).toEqual(Option.some("signed-in"))
      const loaded = Option.getOrThrow(yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.load))
      expect(TokenStore.isGrant(loaded)).toBe(false)
    }).pipe(Effect.provide(TokenStore.layerMemory()))
  )

  it.effect("leaves a stored session alone: its rotated token is the one to spend", () =>
    Effect.gen(function* () {
      expect(yield* TokenStore.seed(Redacted.make("signed-in"))).toBe(false)
      expect(yield* storedToken).toEqual(Option.some(`${secretMarker}-refresh-1`))
    }).pipe(Effect.provide(TokenStore.layerMemory(grant())))
  )

  it.effect.each(["", "  ", "a\nb", "x".repeat(8 * 1024 + 1)])(
    "refuses %j with InvalidInput and saves nothing",
    (token) =>
      Effect.gen(function* () {
        const error = failure(yield* Effect.exit(TokenStore.seed(Redacted.make(token))))
        expect(error._tag).toBe("InvalidInput")
        expect(yield* storedToken).toEqual(Option.none())
      }).pipe(Effect.provide(TokenStore.layerMemory()))
  )

  it.effect("layerSeeded seeds as the layer builds, and does nothing without a token", () =>
    Effect.gen(function* () {
      const seeded = yield* storedToken.pipe(
        Effect.provide(TokenStore.layerMemory().pipe(TokenStore.layerSeeded(Redacted.make("signed-in"))))
      )
      expect(seeded).toEqual(Option.some("signed-in"))
      const unseeded = yield* storedToken.pipe(
        Effect.provide(TokenStore.layerMemory().pipe(TokenStore.layerSeeded(Option.none())))
      )
      expect(unseeded).toEqual(Option.none())
    })
  )

  it.scoped("layerSeeded over a file store: the first run writes the file, a later run keeps it", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped()
      const file = `${directory}/session.json`
      const run = (token: string) =>
        storedToken.pipe(
          Effect.provide(DdnAuthNode.layerFileStore(file).pipe(TokenStore.layerSeeded(Redacted.make(token))))
        )
      expect(yield* run("first")).toEqual(Option.some("first"))
      expect(yield* run("second")).toEqual(Option.some("first"))
      expect(JSON.parse(yield* fs.readFileString(file))).toEqual({
        version: 1,
        session: { _tag: "RefreshTokenOnly", refreshToken: "first" }
      })
    }).pipe(Effect.provide(NodeFiles))
  )
})

describe("TokenStore.layerFile", () => {
  it.scoped("round-trips a grant and a bare refresh token; the file is mode 0600", () =>
    Effect.gen(function* () {
      const { fs, file, store } = yield* fileStore
      const saved = grant(7)
      yield* store.save(saved)
      const loaded = Option.getOrThrow(yield* store.load)
      expect(loaded).toBeInstanceOf(TokenGrant)
      expect(TokenStore.isGrant(loaded) && Redacted.value(loaded.accessToken)).toBe(`${secretMarker}-access-7`)
      expect(Redacted.value(loaded.refreshToken)).toBe(`${secretMarker}-refresh-7`)
      expect(TokenStore.isGrant(loaded) && loaded.expiresAt).toEqual(saved.expiresAt)
      expect((yield* fs.stat(file)).mode & 0o777).toBe(0o600)

      yield* store.save(new TokenStore.RefreshTokenOnly({ refreshToken: Redacted.make("rt-only") }))
      const bare = Option.getOrThrow(yield* store.load)
      expect(bare).toBeInstanceOf(TokenStore.RefreshTokenOnly)
      expect(Redacted.value(bare.refreshToken)).toBe("rt-only")
      expect((yield* fs.stat(file)).mode & 0o777).toBe(0o600)
    }).pipe(Effect.provide(NodeFiles))
  )

  it.scoped("a missing file is None", () =>
    Effect.gen(function* () {
      const { store } = yield* fileStore
      expect(yield* store.load).toEqual(Option.none())
    }).pipe(Effect.provide(NodeFiles))
  )

  it.scoped.each([
    ["not JSON", `{"version":1,"session":{"refreshToken":"${secretMarker}-torn`],
    ["JSON of the wrong shape", `{"version":1,"session":{"accessToken":"${secretMarker}-a","refreshToken":42}}`],
    ["an unknown version", `{"version":2,"session":{"_tag":"RefreshTokenOnly","refreshToken":"${secretMarker}-r"}}`],
    ["an empty file", ""]
  ] as const)("%s → Corrupt, and the message quotes nothing of the file", ([, content]) =>
    Effect.gen(function* () {
      const { fs, file, store } = yield* fileStore
      yield* fs.writeFileString(file, content)
      const error = failure(yield* Effect.exit(store.load))
      expect(error).toBeInstanceOf(TokenStore.TokenStoreError)
      expect(error.reason).toBe("Corrupt")
      expect(error.message).toContain(file)
      expect(`${error.message} ${String(error)} ${JSON.stringify(error)}`).not.toContain(secretMarker)
    }).pipe(Effect.provide(NodeFiles))
  )

  it.scoped("creates a missing directory and leaves no temporary file behind", () =>
    Effect.gen(function* () {
      const { fs, directory } = yield* fileStore
      const store = yield* TokenStore.makeFile(`${directory}/nested/deeper/session.json`)
      for (let n = 1; n <= 5; n++) yield* store.save(grant(n))
      expect(yield* fs.readDirectory(`${directory}/nested/deeper`)).toEqual(["session.json"])
      expect(((yield* fs.stat(`${directory}/nested/deeper`)).mode & 0o777).toString(8)).toBe("700")
    }).pipe(Effect.provide(NodeFiles))
  )

  it.scoped("a directory in the way → ReadFailed and WriteFailed, naming the system error", () =>
    Effect.gen(function* () {
      const { fs, file, store } = yield* fileStore
      yield* fs.makeDirectory(file)
      expect(failure(yield* Effect.exit(store.load))).toMatchObject({ reason: "ReadFailed" })
      const error = failure(yield* Effect.exit(store.save(grant())))
      expect(error).toMatchObject({ _tag: "TokenStoreError", reason: "WriteFailed" })
      expect(error.message).not.toContain(secretMarker)
      expect(yield* fs.readDirectory(file.replace(/session\.json$/, ""))).toEqual(["session.json"])
    }).pipe(Effect.provide(NodeFiles))
  )

  it.scoped("two sessions sharing one file adopt each other's rotations", () =>
    Effect.gen(function* () {
      const { file } = yield* fileStore
      const ddn = makeFakeDdn()
      const seeded = ddn.mint(0)
      yield* (yield* TokenStore.makeFile(file)).save(seeded)
      /** Each session gets its own store instance over the same file, as two processes would. */
      const openSession = Effect.gen(function* () {
        const store = yield* TokenStore.makeFile(file)
        return yield* TokenSession.make().pipe(
          Effect.provideService(DdnAuthClient, ddn.client),
          Effect.provideService(TokenStore.TokenStore, store)
        )
      })
      const a = yield* openSession
      const b = yield* openSession

      yield* TestClock.adjust("3550 seconds")
      const rotatedByA = Redacted.value(yield* a.accessToken)
      expect(rotatedByA).toBe(`${secretMarker}-access-2`)
      expect(ddn.calls()).toBe(1)

      // B still holds the spent refresh token: DDN refuses it, B reads the file and adopts A's pair.
      expect(Redacted.value(yield* b.accessToken)).toBe(rotatedByA)
      expect(ddn.calls()).toBe(2)

      yield* TestClock.adjust("1 hour")
      const rotatedByB = Redacted.value(yield* b.accessToken)
      expect(rotatedByB).toBe(`${secretMarker}-access-3`)
      expect(Redacted.value(yield* a.accessToken)).toBe(rotatedByB)
      expect(ddn.calls()).toBe(4)

      const onDisk = Option.getOrThrow(yield* (yield* TokenStore.makeFile(file)).load)
      expect(Redacted.value(onDisk.refreshToken)).toBe(`${secretMarker}-refresh-3`)
    }).pipe(Effect.provide(NodeFiles))
  )

  /** The crash test's victim, bundled once into plain JavaScript so each of the 20 children starts fast. */
  const storeWriterSource = fileURLToPath(new URL("./fixtures/storeWriter.ts", import.meta.url))

  describe("killed with SIGKILL while saving", () => {
    let workDir: string
    let storeWriter: string
    const running = new Set<ChildProcess>()
    beforeAll(async () => {
      workDir = await mkdtemp(join(tmpdir(), "ddn-token-store-crash-"))
      storeWriter = join(workDir, "storeWriter.mjs")
      await build({
        entryPoints: [storeWriterSource],
        outfile: storeWriter,
        bundle: true,
        platform: "node",
        format: "esm"
      })
    })
    afterAll(async () => {
      for (const child of running) child.kill("SIGKILL")
      await rm(workDir, { recursive: true, force: true, maxRetries: 5 })
    })

    const filler = 256 * 1024
    const readNumber = (file: string) =>
      Effect.runPromise(
        Effect.flatMap(TokenStore.TokenStore, (store) => store.load).pipe(
          Effect.provide(DdnAuthNode.layerFileStore(file)),
          Effect.map(Option.map((session) => (TokenStore.isGrant(session) ? numberOf(session, filler) : "bare")))
        )
      )

    /** Starts a writer from `first`, kills it 0–40 ms after its first save, and waits for it to die. */
    const killWhileWriting = (file: string, first: number) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [storeWriter, file, String(filler), String(first)])
        running.add(child)
        let stderr = ""
        child.stderr.on("data", (chunk) => {
          stderr += String(chunk)
        })
        child.stdout.once("data", () => setTimeout(() => child.kill("SIGKILL"), Math.random() * 40))
        child.once("exit", (_code, signal) => {
          running.delete(child)
          if (signal === "SIGKILL") resolve()
          else reject(new Error(`the writer exited on its own: ${stderr}`))
        })
      })

    it("leaves the old or the new session, never a torn one (20 kills)", { timeout: 180_000 }, async () => {
      const lanes = 4
      const roundsPerLane = 5
      const outcomes = await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          const file = join(workDir, `lane-${lane}`, "session.json")
          const seen: Array<number | string> = []
          let last = 0
          for (let round = 0; round < roundsPerLane; round++) {
            await killWhileWriting(file, last + 1)
            const read = Option.getOrElse(await readNumber(file), () => "missing")
            seen.push(read)
            if (typeof read === "number") {
              expect(read).toBeGreaterThan(last)
              last = read
            }
          }
          return seen
        })
      )
      for (const seen of outcomes) for (const read of seen) expect(typeof read).toBe("number")
      const leftovers = (
        await Promise.all(Array.from({ length: lanes }, (_, lane) => readdir(join(workDir, `lane-${lane}`))))
      )
        .flat()
        .filter((name) => name !== "session.json")
      expect(leftovers.every((name) => /^\.session\.json\..+\.tmp$/.test(name))).toBe(true)
    })
  })
})

/**
 * The circuit breaker's state machine, synchronous and driven by the caller's clock readings, so
 * the upstream guard can share one `Clock` reading between its pieces.
 *
 * @internal
 */

/** The breaker's settings, resolved. @internal */
export interface Settings {
  readonly windowMillis: number
  readonly buckets: number
  readonly minimumCalls: number
  readonly failureRatio: number
  readonly openMillis: number
}

/** How one call went, for the breaker: a transient `failure`, a `success` (any other answer), or `ignored`. @internal */
export type Verdict = "success" | "failure" | "ignored"

/**
 * May a call go ahead: `pass` (closed), `probe` (the one call of a half-open breaker), or the
 * milliseconds until a probe may be tried (open, or half-open with its probe in flight). @internal
 */
export type Admission = "pass" | "probe" | number

/**
 * Calls in a rolling window of `buckets` buckets of `windowMillis / buckets` each: a call lands in
 * the bucket of the instant it ended, and a bucket is emptied as the window rolls past it.
 * @internal
 */
export class CircuitState {
  private readonly bucketMillis: number
  private readonly calls: Array<number>
  private readonly failures: Array<number>
  private bucket = Number.NEGATIVE_INFINITY
  private totalCalls = 0
  private totalFailures = 0
  /** When the breaker opened (epoch ms), or `undefined` while closed. */
  private openedAt: number | undefined = undefined
  private probing = false

  constructor(readonly settings: Settings) {
    this.bucketMillis = Math.max(1, settings.windowMillis / settings.buckets)
    this.calls = new Array<number>(settings.buckets).fill(0)
    this.failures = new Array<number>(settings.buckets).fill(0)
  }

  /** `closed`, `open` (no call until `openMillis` after opening), or `half_open` (a probe decides). */
  state(now: number): "closed" | "open" | "half_open" {
    if (this.openedAt === undefined) return "closed"
    return now - this.openedAt < this.settings.openMillis ? "open" : "half_open"
  }

  admit(now: number): Admission {
    if (this.openedAt === undefined) return "pass"
    const wait = this.openedAt + this.settings.openMillis - now
    if (wait > 0) return wait
    if (this.probing) return 1
    this.probing = true
    return "probe"
  }

  /** Records a call admitted as `admission` that ended at `now`. */
  record(now: number, verdict: Verdict, admission: "pass" | "probe"): void {
    if (admission === "probe") {
      this.probing = false
      if (verdict === "success") this.close()
      else if (verdict === "failure") this.openedAt = now
      return
    }
    // A call admitted while closed that ends after the breaker opened changes nothing.
    if (verdict === "ignored" || this.openedAt !== undefined) return
    this.roll(now)
    const slot = this.slot()
    this.calls[slot]! += 1
    this.totalCalls += 1
    if (verdict === "failure") {
      this.failures[slot]! += 1
      this.totalFailures += 1
      if (
        this.totalCalls >= this.settings.minimumCalls &&
        this.totalFailures >= this.settings.failureRatio * this.totalCalls
      ) {
        this.openedAt = now
      }
    }
  }

  private slot(): number {
    return ((this.bucket % this.settings.buckets) + this.settings.buckets) % this.settings.buckets
  }

  /** Moves the window to `now`'s bucket, emptying the buckets it rolls past. */
  private roll(now: number): void {
    const bucket = Math.floor(now / this.bucketMillis)
    if (bucket <= this.bucket) return
    const steps = Math.min(bucket - this.bucket, this.settings.buckets)
    this.bucket = bucket
    for (let i = 0; i < steps; i++) {
      const slot = (((bucket - i) % this.settings.buckets) + this.settings.buckets) % this.settings.buckets
      this.totalCalls -= this.calls[slot]!
      this.totalFailures -= this.failures[slot]!
      this.calls[slot] = 0
      this.failures[slot] = 0
    }
  }

  private close(): void {
    this.openedAt = undefined
    this.calls.fill(0)
    this.failures.fill(0)
    this.totalCalls = 0
    this.totalFailures = 0
  }
}

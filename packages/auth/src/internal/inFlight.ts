/**
 * A count of calls in flight, bounded by `limit`: a permit is taken at once or refused.
 *
 * @internal
 */
export class InFlightCount {
  current = 0

  constructor(readonly limit: number) {}

  tryAcquire(): boolean {
    if (this.current >= this.limit) return false
    this.current += 1
    return true
  }

  release(): void {
    this.current -= 1
  }
}

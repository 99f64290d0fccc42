/**
 * The pause's state: the instant (epoch ms on the `Clock`) before which no call may go to DDN.
 *
 * @internal
 */
export class PauseState {
  /** Epoch ms; 0 when never paused. */
  until = 0

  /** Pauses until `until`, unless a pause already runs longer. */
  pause(until: number): void {
    if (until > this.until) this.until = until
  }

  /** Milliseconds left in the pause at `now`; 0 or less when calls may go ahead. */
  remaining(now: number): number {
    return this.until - now
  }
}

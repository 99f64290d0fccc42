/** @internal */
import type { RefreshError } from "../RefreshError.js"
import { isTransient, type TransientFailure } from "./retryPolicy.js"

/**
 * What one refresh's attempts have seen so far, for its conclusion: how many were made, the last
 * transient failure that was not the deadline, and whether any may have reached DDN (and so may have
 * rotated the token before a later 401).
 *
 * @internal
 */
export class AttemptLog {
  attempts = 0
  lastTransient: TransientFailure | undefined = undefined
  mayHaveRotated = false

  constructor(readonly deadlineAt: number) {}

  /** Records an attempt's failure; a terminal error changes nothing. */
  note(error: RefreshError | TransientFailure): void {
    if (!isTransient(error)) return
    this.mayHaveRotated ||= error.reachedUpstream
    if (error.kind !== "Deadline") this.lastTransient = error
  }
}

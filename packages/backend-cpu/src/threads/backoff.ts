/**
 * Whether splitting products over threads is paying off. On a machine whose cores are all busy (other
 * processes), a worker wakes late and, worse, can be descheduled in the middle of a chunk that the calling thread
 * then waits for: there the threaded product is slower than one thread. After each split product the pool
 * reports its gain, (estimated time on one thread) / (time taken), the one-thread time estimated from the calling
 * thread's own chunks; a moving average below 1 makes the next `skip` products run on one thread (8 at first,
 * doubling while probes keep losing, up to 1024), after which one product probes again. A probe that gains
 * more than 1.1 resets the window.
 */
const MIN_WINDOW = 8;
const MAX_WINDOW = 1024;

export class Backoff {
  /** Moving average of the gains (optimistic at first). */
  score = 1.5;
  /** Products left to run on one thread. */
  skip = 0;
  /** The next back-off window. */
  window = MIN_WINDOW;
  /** Products run on one thread by backing off, in total. */
  skipped = 0;

  /** Whether the next product may split (counts down the back-off window). */
  allow(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    this.skipped++;
    return false;
  }

  /** Record a split product's gain. */
  record(gain: number): void {
    if (!(gain > 0) || !Number.isFinite(gain)) return;
    this.score = 0.75 * this.score + 0.25 * gain;
    if (this.score < 1) {
      this.skip = this.window;
      this.window = Math.min(2 * this.window, MAX_WINDOW);
      this.score = 1; // the probe after the window decides alone whether to back off again
    } else if (gain > 1.1) {
      this.window = MIN_WINDOW;
    }
  }

  reset(): void {
    this.score = 1.5;
    this.skip = 0;
    this.window = MIN_WINDOW;
  }
}

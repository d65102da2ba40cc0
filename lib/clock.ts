/**
 * Time as a port: the simulator's jobs, the pipeline's schedules and the local runtime read time only
 * through a Clock, so tests and the accelerated `npm start` can run virtual time.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: tests and accelerated runs advance it explicitly. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  advance(milliseconds: number): void {
    if (milliseconds < 0) throw new RangeError("a clock cannot go back");
    this.#now += milliseconds;
  }

  set(epochMilliseconds: number): void {
    this.#now = epochMilliseconds;
  }
}

/** Real time scaled by a factor (100 = a simulated minute takes 0.6 s), for accelerated local runs. */
export class ScaledClock implements Clock {
  readonly #origin: number;
  readonly #startedAt: number;
  readonly #factor: number;

  constructor(factor: number, origin: number = Date.now()) {
    this.#factor = factor;
    this.#origin = origin;
    this.#startedAt = Date.now();
  }

  now(): number {
    return this.#origin + (Date.now() - this.#startedAt) * this.#factor;
  }
}

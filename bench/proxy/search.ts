/**
 * bench:proxy and bench:registrations: the search for the highest rate that completes with no
 * failure. Each step offers a fixed number of calls at one rate (rate × step seconds, capped);
 * the rate goes up by a factor until a step fails, then a few bisection steps between the last
 * rate that passed and the first that failed. Past a proxy's limit it is a cliff (late responses
 * cause retransmissions, which cause drops), so one failed rate is enough to stop climbing; a
 * rate fails when two steps at it fail in a row (see confirmFailures).
 */

export interface StepOutcome {
  rate: number;
  /** Calls (or registrations) offered in the step. */
  calls: number;
  pass: boolean;
}

export interface SearchOptions<S extends StepOutcome> {
  /** First rate tried, per second. */
  start: number;
  /** Multiplier while every step passes (e.g. 1.25). */
  factor: number;
  /** Never tries above this rate. */
  maxRate: number;
  /** Bisection steps after the first failure. */
  bisectSteps: number;
  /** Bisection ends when the gap is below this fraction of the rate that passed. */
  precision: number;
  /** Largest number of steps in all (bounds the run's time). */
  maxSteps: number;
  /** Runs one step at `rate` (per second). */
  step(rate: number): Promise<S>;
  /** Called after a failed step (restart the proxy, so the next step starts clean). */
  afterFailure?(step: S): Promise<void>;
  /**
   * A failed step is run once more at the same rate (after afterFailure) and counts as failed only
   * if that fails too: on a machine shared with other work, a burst of someone else's load can drop
   * a few datagrams at a rate the proxy sustains. Default true.
   */
  confirmFailures?: boolean;
}

export interface SearchResult<S extends StepOutcome> {
  /** The highest rate that passed, 0 when none did. */
  maxRate: number;
  /** The lowest rate that failed above it, if one was found. */
  firstFailure: number | undefined;
  steps: S[];
}

export async function searchMaxRate<S extends StepOutcome>(o: SearchOptions<S>): Promise<SearchResult<S>> {
  const steps: S[] = [];
  let pass = 0;
  let fail: number | undefined;
  const once = async (rate: number): Promise<boolean> => {
    const s = await o.step(rate);
    steps.push(s);
    if (!s.pass) await o.afterFailure?.(s);
    return s.pass;
  };
  const run = async (rate: number): Promise<boolean> => {
    const ok = (await once(rate)) || ((o.confirmFailures ?? true) && steps.length < o.maxSteps && (await once(rate)));
    if (ok) pass = Math.max(pass, rate);
    else fail = fail === undefined ? rate : Math.min(fail, rate);
    return ok;
  };

  // Climb, or (when the first rate already fails) halve until one passes.
  let rate = Math.round(o.start);
  while (steps.length < o.maxSteps) {
    if (await run(rate)) {
      if (fail !== undefined) break;
      if (rate >= o.maxRate) break;
      rate = Math.min(o.maxRate, Math.round(rate * o.factor));
    } else {
      if (pass > 0) break;
      rate = Math.round(rate / 2);
      if (rate < 5) break;
    }
  }
  // Bisect between the last pass and the first failure.
  for (let i = 0; i < o.bisectSteps && steps.length < o.maxSteps; i++) {
    if (fail === undefined || pass === 0) break;
    if ((fail - pass) / pass <= o.precision) break;
    await run(Math.round((pass + fail) / 2));
  }
  return { maxRate: pass, firstFailure: fail, steps };
}

/**
 * The Lambda deadline: an invocation is cut off at its timeout wherever it is, so a step must stop taking
 * new work while there is still time to record the work it started. Above all, no SDRS create call may
 * start that could not be recorded: a create answered after the cut would leave a protected instance no
 * record knows (only the group lookup of reconcile would find it again). Unstarted work returns to its
 * queue as batch item failures and is made by the next invocation.
 */
export interface Deadline {
  /** Milliseconds left before the invocation is cut off (Lambda: context.getRemainingTimeInMillis()). */
  remainingMs(): number;
  /** Work is started only while more than this is left: one create call's timeout and the writes after it. */
  marginMs: number;
}

/** The cloud client's default request timeout (30 s) plus the writes that record a create (state, job, queue). */
export const DEFAULT_DEADLINE_MARGIN_MS = 40_000;

/** The deadline of a Lambda invocation, from its context. */
export function lambdaDeadline(
  context: { getRemainingTimeInMillis(): number },
  marginMs = DEFAULT_DEADLINE_MARGIN_MS,
): Deadline {
  return { remainingMs: () => context.getRemainingTimeInMillis(), marginMs };
}

/** Whether new work must not start: the remaining time is at or below the margin. No deadline: never. */
export function outOfTime(deps: { readonly deadline?: Deadline | undefined }): boolean {
  const { deadline } = deps;
  return deadline !== undefined && deadline.remainingMs() <= deadline.marginMs;
}

/** The deps of one invocation: the container's deps with that invocation's deadline. */
export function withDeadline<T extends { deadline?: Deadline | undefined }>(deps: T, deadline: Deadline): T {
  // Descriptors, not a spread: a lazily built port (the cloud client's getter) stays lazy.
  const invocation = Object.defineProperties({}, Object.getOwnPropertyDescriptors(deps)) as T;
  invocation.deadline = deadline;
  return invocation;
}

/** A message left unprocessed because the invocation's time ran short; it returns to its queue. */
export class DeadlineReachedError extends Error {
  readonly code = "DEADLINE_REACHED";
  override readonly name = "DeadlineReachedError";

  constructor(remainingMs: number) {
    super(`not started: ${remainingMs} ms left in the invocation, below the margin; the message returns to its queue`);
  }
}

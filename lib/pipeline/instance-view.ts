/**
 * One read of the project's protected instances, shared by every onboarding batch and every job check of
 * a process for a few seconds, instead of one list per batch and one `showJob` per check. A wave of
 * hundreds of jobs in flight then costs one list (⌈instances/1000⌉ pages) per `maxAgeSeconds`, whatever
 * the number of jobs.
 *
 * A stale view is safe where it is used: onboarding also checks the store (our own creates), and SDRS
 * refuses to protect a server twice (SDRS.1305, which the onboard step adopts); a job check that does not
 * see its servers finished simply looks again. A reader that must see a change it knows happened (a job
 * seen finished) asks for a view read after that moment (`notBefore`).
 */
import type { Clock } from "../clock.ts";
import type { ProtectedInstance } from "../sdrs/schemas.ts";

export interface ProtectedInstanceView {
  /** Every protected instance of the project, read at most `maxAgeSeconds` ago and not before `notBefore` (epoch ms). */
  all(options?: { notBefore?: number }): Promise<ProtectedInstance[]>;
  /** The same read indexed by source server (a server is a protected instance at most once, SDRS.1305). */
  ofServers(options?: { notBefore?: number }): Promise<ReadonlyMap<string, ProtectedInstance>>;
  /** Forget the read (e.g. after a create), so the next caller lists again. */
  invalidate(): void;
}

/** Long enough to serve a wave's batches and checks, short enough that a job's end is seen within a check interval. */
export const DEFAULT_VIEW_MAX_AGE_SECONDS = 15;

export function protectedInstanceView(
  list: () => Promise<ProtectedInstance[]>,
  clock: Clock,
  maxAgeSeconds: number = DEFAULT_VIEW_MAX_AGE_SECONDS,
): ProtectedInstanceView {
  let current: { readAt: number; instances: Promise<ProtectedInstance[]>; bySource?: Map<string, ProtectedInstance> } | undefined;
  const read = (notBefore: number | undefined) => {
    const now = clock.now();
    if (current === undefined || now - current.readAt > maxAgeSeconds * 1000 || (notBefore !== undefined && current.readAt < notBefore)) {
      const instances = list();
      const entry: NonNullable<typeof current> = { readAt: now, instances };
      current = entry;
      // A failed read is not kept: the next caller tries again.
      instances.catch(() => {
        if (current === entry) current = undefined;
      });
    }
    return current;
  };
  return {
    all: (options = {}) => read(options.notBefore).instances,
    async ofServers(options = {}) {
      const entry = read(options.notBefore);
      const instances = await entry.instances;
      entry.bySource ??= new Map(instances.map((instance) => [instance.source_server, instance]));
      return entry.bySource;
    },
    invalidate: () => {
      current = undefined;
    },
  };
}

/** The view the deps share, or (none configured) one that lists on every call: today's behaviour. */
export function instanceViewOf(deps: { instances?: ProtectedInstanceView; cloud: { listProtectedInstances(filter: Record<string, never>): Promise<ProtectedInstance[]> }; clock: Clock }): ProtectedInstanceView {
  return deps.instances ?? protectedInstanceView(() => deps.cloud.listProtectedInstances({}), deps.clock, -1);
}

/**
 * One read of the project's protected instances (or of those still `creating`), shared by every onboarding
 * batch or every job check of a process for a few seconds, instead of one list per batch and one `showJob`
 * per check. A wave of hundreds of jobs in flight then costs one list of what is creating per
 * `maxAgeSeconds`, whatever the number of jobs.
 *
 * A stale view is safe where it is used: onboarding also checks the store (our own creates), and SDRS
 * refuses to protect a server twice (SDRS.1305, which the onboard step adopts); a job check that does not
 * see its servers finished reads the job. A reader that must see a change it knows happened (a job
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

/** Long enough to serve a wave's batches, short enough that a protection made elsewhere is soon seen. */
export const DEFAULT_VIEW_MAX_AGE_SECONDS = 15;
/**
 * The in-flight view is refreshed at most this often while jobs run: a job's end is seen within this plus
 * one check interval (schedule `viewRetrySeconds`, 15 s), under a minute.
 */
export const DEFAULT_IN_FLIGHT_MAX_AGE_SECONDS = 25;

export function protectedInstanceView(
  list: () => Promise<ProtectedInstance[]>,
  clock: Clock,
  maxAgeSeconds: number = DEFAULT_VIEW_MAX_AGE_SECONDS,
): ProtectedInstanceView {
  let current:
    | { readAt: number; instances: Promise<ProtectedInstance[]>; bySource?: Map<string, ProtectedInstance> }
    | undefined;
  const read = (notBefore: number | undefined) => {
    const now = clock.now();
    if (
      current === undefined ||
      now - current.readAt > maxAgeSeconds * 1000 ||
      (notBefore !== undefined && current.readAt < notBefore)
    ) {
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

interface ViewDeps {
  instances?: ProtectedInstanceView;
  creatingInstances?: ProtectedInstanceView;
  cloud: { listProtectedInstances(filter: { status?: string }): Promise<ProtectedInstance[]> };
  clock: Clock;
}

/** The project's protected instances: the deps' shared view, or (none configured) a list on every use. */
export function instanceViewOf(deps: ViewDeps): ProtectedInstanceView {
  return deps.instances ?? protectedInstanceView(() => deps.cloud.listProtectedInstances({}), deps.clock, -1);
}

/** The jobs in flight through their instances (`inFlightInstancesView`): the deps' shared view, or a list of those creating on every use. */
export function creatingViewOf(deps: ViewDeps): ProtectedInstanceView {
  return (
    deps.creatingInstances ??
    protectedInstanceView(() => deps.cloud.listProtectedInstances({ status: "creating" }), deps.clock, -1)
  );
}

/**
 * The jobs in flight, seen through their instances: each refresh lists the instances in status `creating`
 * (its size follows the jobs in flight, not the estate) and looks up by id (`protected_instance_ids`, 30 per
 * request) the ones that were creating at the previous refresh and are not any more, so a finished
 * instance shows with its final status (available, protected, error). An instance this process never saw
 * creating, or one gone for good (SDRS deletes a failed create), is absent: the caller reads the job.
 */
export function inFlightInstancesView(
  cloud: {
    listProtectedInstances(filter: {
      status?: string;
      protectedInstanceIds?: readonly string[];
    }): Promise<ProtectedInstance[]>;
  },
  clock: Clock,
  maxAgeSeconds = DEFAULT_IN_FLIGHT_MAX_AGE_SECONDS,
): ProtectedInstanceView {
  const known = new Map<string, ProtectedInstance>();
  const refresh = async (): Promise<ProtectedInstance[]> => {
    const creating = await cloud.listProtectedInstances({ status: "creating" });
    const stillCreating = new Set(creating.map((instance) => instance.id));
    const left = [...known.values()]
      .filter((instance) => instance.status === "creating" && !stillCreating.has(instance.id))
      .map((instance) => instance.id);
    const finished = left.length === 0 ? [] : await cloud.listProtectedInstances({ protectedInstanceIds: left });
    for (const id of left) known.delete(id);
    for (const instance of [...finished, ...creating]) known.set(instance.id, instance);
    return [...known.values()];
  };
  return protectedInstanceView(refresh, clock, maxAgeSeconds);
}

/**
 * Reads that many batches ask for within seconds and that change rarely (a target's protection group, the
 * Auto Scaling membership), kept per key for `maxAgeSeconds`; a failed read is not kept.
 */
export interface SharedReads {
  get<T>(key: string, read: () => Promise<T>): Promise<T>;
}

export function sharedReads(clock: Clock, maxAgeSeconds: number = DEFAULT_VIEW_MAX_AGE_SECONDS): SharedReads {
  const entries = new Map<string, { readAt: number; value: Promise<unknown> }>();
  return {
    get<T>(key: string, read: () => Promise<T>): Promise<T> {
      const now = clock.now();
      const kept = entries.get(key);
      if (kept !== undefined && now - kept.readAt <= maxAgeSeconds * 1000) return kept.value as Promise<T>;
      const value = read();
      const entry = { readAt: now, value };
      entries.set(key, entry);
      value.catch(() => {
        if (entries.get(key) === entry) entries.delete(key);
      });
      return value;
    },
  };
}

/** The deps' shared reads, or (none configured) a read every time. */
export function sharedReadsOf(deps: { reads?: SharedReads }): SharedReads {
  return deps.reads ?? { get: (_key, read) => read() };
}

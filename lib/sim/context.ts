/**
 * What the simulator's request handlers share: the simulated project, the API gateway in front of it,
 * the fault controller, the request counts, and the read-only views tests use. Built once per
 * simulator by lib/sim/server.ts.
 */
import type { Clock } from "../clock.ts";
import type { EcsServer, EvsVolume, Job, ProtectedInstance, ProtectionGroup } from "../sdrs/schemas.ts";
import type { ApiError } from "./api-error.ts";
import type { Faults } from "./faults.ts";
import type { Gateway } from "./gateway-auth.ts";
import { serversAttachedTo } from "./indexes.ts";
import type { World } from "./model.ts";
import { renderJob, renderProtectedInstance, renderProtectionGroup, renderServer, renderVolume } from "./render.ts";
import type { SimulatedProject } from "./world.ts";

/** An answer before it is written: status, JSON body, extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function errorReply(error: ApiError): Reply {
  return { status: error.status, body: error.body };
}

/** Read-only views for tests, rendered as the API renders them (jobs settled to the clock first). */
export interface SimulatorState {
  protectedInstances(): ProtectedInstance[];
  jobs(): Job[];
  servers(): EcsServer[];
  protectionGroups(): ProtectionGroup[];
  volumes(): EvsVolume[];
}

/** Requests received per operation name (plus "unknown" for unmatched paths); only non-zero entries. */
export class RequestCounts {
  #counts: Record<string, number> = {};

  add(name: string): void {
    this.#counts[name] = (this.#counts[name] ?? 0) + 1;
  }

  snapshot(): Record<string, number> {
    return { ...this.#counts };
  }

  reset(): void {
    this.#counts = {};
  }
}

export interface SimulatorContext {
  readonly project: SimulatedProject;
  readonly world: World;
  readonly gateway: Gateway;
  readonly faults: Faults;
  /** The API gateway's wall clock (throttling windows), never the job clock. */
  readonly gatewayClock: Clock;
  /** When the simulator started (by the job clock): the creation time of the estate's volumes and pairs. */
  readonly startedAt: number;
  readonly counts: RequestCounts;
  readonly state: SimulatorState;
  /** Settles the jobs to the job clock and returns its instant. */
  settledNow(): number;
  /** The simulator's URL once it listens (EVS `links` of volumes read through `state`). */
  publicUrl: string;
}

export function simulatorContext(
  parts: Omit<SimulatorContext, "counts" | "state" | "settledNow" | "publicUrl"> & { clock: Clock },
): SimulatorContext {
  const { clock, ...shared } = parts;
  const { project, world, startedAt } = shared;
  const settledNow = () => {
    const now = clock.now();
    project.settle(now);
    return now;
  };
  const context: SimulatorContext = {
    ...shared,
    counts: new RequestCounts(),
    settledNow,
    publicUrl: "",
    state: {
      protectedInstances: () => {
        const now = settledNow();
        return [...world.instances.values()].map((instance) => renderProtectedInstance(world, instance, now));
      },
      jobs: () => {
        const now = settledNow();
        return [...world.jobs.values()].map((job) => renderJob(job, now));
      },
      servers: () => {
        settledNow();
        return [...world.servers.values()].map((server) => renderServer(world, server));
      },
      protectionGroups: () => {
        settledNow();
        return [...world.groups.values()].map((group) => renderProtectionGroup(world, group));
      },
      volumes: () => {
        settledNow();
        return [...world.volumes.values()].map((volume) =>
          renderVolume(world, volume, serversAttachedTo(world, volume.id), startedAt, context.publicUrl),
        );
      },
    },
  };
  return context;
}

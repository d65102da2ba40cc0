/**
 * Fault injection: throttling, server errors, latency, ambiguous creates (applied, then the connection
 * is dropped), failing and never-ending jobs. `next: N` faults are deterministic (the next N matching
 * requests); `probability` faults draw from the simulator's seeded randomness.
 */

import { OPERATIONS, type OperationName } from "../sdrs/operations.ts";
import * as z from "../zod.ts";
import type { Random } from "./random.ts";

const operationName = z.enum(Object.keys(OPERATIONS) as [OperationName, ...OperationName[]]);
const count = z.int().check(z.nonnegative());
const probability = z.number().check(z.gte(0), z.lte(1));

export const faultSettingsSchema = z.strictObject({
  throttle: z.optional(
    z.strictObject({
      next: z.optional(count),
      probability: z.optional(probability),
      /** Requests per second (gateway wall time) above which matching requests get 429. */
      ratePerSecond: z.optional(z.number().check(z.positive())),
      retryAfterSeconds: z.optional(z.int().check(z.nonnegative())),
      operations: z.optional(z.array(operationName)),
    }),
  ),
  serverError: z.optional(
    z.strictObject({
      next: z.optional(count),
      probability: z.optional(probability),
      status: z.optional(z.union([z.literal(500), z.literal(502), z.literal(503), z.literal(504)])),
      operations: z.optional(z.array(operationName)),
    }),
  ),
  latencyMs: z.optional(z.int().check(z.nonnegative())),
  dropAfterCreate: z.optional(z.strictObject({ next: count })),
  failJob: z.optional(
    z.strictObject({
      serverIds: z.optional(z.array(z.string())),
      wholeBatch: z.optional(z.boolean()),
      errorCode: z.optional(z.string()),
      failReason: z.optional(z.string()),
    }),
  ),
  jobsNeverFinish: z.optional(
    z.union([z.literal(true), z.strictObject({ serverIds: z.optional(z.array(z.string())) })]),
  ),
});
export type FaultSettings = z.infer<typeof faultSettingsSchema>;

export interface FaultController {
  /** Validates and applies settings; each kind given replaces that kind's earlier setting, others stay. */
  set(settings: FaultSettings): void;
  clear(): void;
  /** The settings in force, with `next` counters showing what is left. */
  current(): FaultSettings;
}

export const CREATE_OPERATIONS: ReadonlySet<OperationName> = new Set([
  "createProtectedInstance",
  "batchCreateProtectedInstances",
  "createProtectionGroup",
]);

export interface ThrottleDecision {
  retryAfterSeconds?: number | undefined;
  limit: number;
}

/** The controller plus the decisions the server asks of it per request. */
export class Faults implements FaultController {
  #settings: FaultSettings = {};
  readonly #random: Random;
  /** Gateway wall-time instants of recently admitted requests, for ratePerSecond. */
  #admitted: number[] = [];

  constructor(random: Random) {
    this.#random = random;
  }

  set(settings: FaultSettings): void {
    const parsed = faultSettingsSchema.parse(settings);
    this.#settings = { ...this.#settings, ...structuredClone(parsed) };
  }

  clear(): void {
    this.#settings = {};
    this.#admitted = [];
  }

  current(): FaultSettings {
    return structuredClone(this.#settings);
  }

  latencyMs(): number {
    return this.#settings.latencyMs ?? 0;
  }

  /** Whether a `next`/`probability` fault fires for this request (consuming one `next`). */
  #fires(fault: { next?: number | undefined; probability?: number | undefined }): boolean {
    if (fault.next !== undefined && fault.next > 0) {
      fault.next -= 1;
      return true;
    }
    return fault.probability !== undefined && this.#random.next() < fault.probability;
  }

  /** 429 decision for a request of `operation` at gateway wall time `wallNow`. */
  throttle(operation: OperationName, wallNow: number): ThrottleDecision | undefined {
    const throttle = this.#settings.throttle;
    if (throttle === undefined || (throttle.operations !== undefined && !throttle.operations.includes(operation)))
      return undefined;
    const limit = throttle.ratePerSecond ?? 100;
    if (this.#fires(throttle)) return { retryAfterSeconds: throttle.retryAfterSeconds, limit };
    if (throttle.ratePerSecond !== undefined) {
      this.#admitted = this.#admitted.filter((at) => wallNow - at < 1000);
      if (this.#admitted.length >= throttle.ratePerSecond)
        return { retryAfterSeconds: throttle.retryAfterSeconds, limit };
      this.#admitted.push(wallNow);
    }
    return undefined;
  }

  /** The 5xx status to answer with instead of serving the request, if any. */
  serverError(operation: OperationName): 500 | 502 | 503 | 504 | undefined {
    const fault = this.#settings.serverError;
    if (fault === undefined || (fault.operations !== undefined && !fault.operations.includes(operation)))
      return undefined;
    return this.#fires(fault) ? (fault.status ?? 503) : undefined;
  }

  /** After an applied create: whether to destroy the connection instead of answering. */
  dropAfterCreate(): boolean {
    const fault = this.#settings.dropAfterCreate;
    if (fault === undefined || fault.next <= 0) return false;
    fault.next -= 1;
    return true;
  }

  /** failJob for a job about `serverIds`: which of them fail, and with what. */
  jobFailure(
    serverIds: readonly string[],
  ): { failing: Set<string>; errorCode: string; failReason: string } | undefined {
    const fault = this.#settings.failJob;
    if (fault === undefined) return undefined;
    const targeted = fault.serverIds === undefined || fault.serverIds.length === 0;
    const matching = targeted ? [...serverIds] : serverIds.filter((id) => fault.serverIds?.includes(id));
    if (!targeted && matching.length === 0) return undefined;
    if (targeted && serverIds.length === 0) {
      // Jobs without servers (group create) fail only when failJob names no servers.
      return {
        failing: new Set(),
        errorCode: fault.errorCode ?? "SDRS.1350",
        failReason: fault.failReason ?? "simulated job failure (fault injection)",
      };
    }
    return {
      failing: new Set(fault.wholeBatch === true ? serverIds : matching),
      errorCode: fault.errorCode ?? "SDRS.1350",
      failReason: fault.failReason ?? "simulated job failure (fault injection)",
    };
  }

  /** jobsNeverFinish: whether work on these servers is held RUNNING right now. */
  holds(serverIds: readonly string[]): boolean {
    const fault = this.#settings.jobsNeverFinish;
    if (fault === undefined) return false;
    if (fault === true || fault.serverIds === undefined) return true;
    return serverIds.some((id) => fault.serverIds?.includes(id));
  }
}

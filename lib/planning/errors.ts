/** Errors of the planning module: a stable code for programs, a message naming the field and the rule. */
export type PlanningErrorCode = "PLAN_INPUT_INVALID" | "PLAN_CLUSTER_EXCEEDS_LIMIT" | "PLAN_CLUSTER_OPTIONS_DIFFER";

export class PlanningError extends Error {
  readonly code: PlanningErrorCode;
  override name = "PlanningError";

  constructor(code: PlanningErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

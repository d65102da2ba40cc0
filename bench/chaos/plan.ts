/** What the chaos runner hands its worker process (as a JSON file): the peers, the state file and the work. */
export interface ChaosPlan {
  stateFile: string;
  simulatorUrl: string;
  receiverUrl: string;
  webhookSecret: string;
  groupId: string;
  maxAttempts: number;
  /** Every message the pipeline sends is sent this many times. */
  copies: number;
  requests: { key: string; serverIds: string[] }[];
  /** EventBridge "ECS Server Tags Changed" events. */
  events: unknown[];
}

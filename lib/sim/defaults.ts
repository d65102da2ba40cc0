/**
 * Credentials the simulator accepts when none are configured, and which the client uses against it by
 * default. Documented in docs/simulator.md; they open nothing but a local simulator.
 */
export const SIMULATOR_DEFAULTS = {
  accessKey: "SIMULATORACCESSKEY0001",
  secretKey: "simulator-secret-key-not-for-production",
  projectId: "0b1a9cf3e2f64f6c9d8e7a6b5c4d3e2f",
  /** IAM password auth against the simulator (POST /v3/auth/tokens). */
  userName: "sim-user",
  password: "sim-password",
  domainName: "sim-domain",
} as const;

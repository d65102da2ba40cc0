/**
 * The client configuration that points at a running simulator: its default credentials
 * (SIMULATOR_DEFAULTS) with every endpoint at the simulator's URL. It lives with the simulator, so the
 * production configuration (lib/sdrs/config.ts) never imports simulator code.
 */

import { type CloudConfig, cloudConfigSchema, DEFAULT_RETRY_POLICY, DEFAULT_TIMEOUT_MS } from "../sdrs/config.ts";
import { DEFAULT_BATCH_LIMIT } from "../sdrs/schemas.ts";
import { Secret } from "../secret.ts";
import { SIMULATOR_DEFAULTS } from "./defaults.ts";

/** The simulator's default credentials with every endpoint at `url`. */
export function simulatorCloudConfig(url: string, auth: "aksk" | "token" = "aksk"): CloudConfig {
  const base = url.replace(/\/+$/, "");
  return cloudConfigSchema.parse({
    projectId: SIMULATOR_DEFAULTS.projectId,
    auth:
      auth === "aksk"
        ? { kind: "aksk", accessKey: SIMULATOR_DEFAULTS.accessKey, secretKey: new Secret(SIMULATOR_DEFAULTS.secretKey) }
        : {
            kind: "token",
            userName: SIMULATOR_DEFAULTS.userName,
            password: new Secret(SIMULATOR_DEFAULTS.password),
            domainName: SIMULATOR_DEFAULTS.domainName,
          },
    endpoints: { sdrs: base, ecs: base, evs: base, as: base, iam: base },
    batchLimit: DEFAULT_BATCH_LIMIT,
    retry: DEFAULT_RETRY_POLICY,
    timeoutMs: DEFAULT_TIMEOUT_MS,
  });
}

/**
 * The cloud API operations this project uses, by name: method, path template, the API that serves it,
 * and whether it changes the cloud. The client counts requests by these names and the simulator routes
 * and counts by them, so a benchmark can compare what the client thinks it sent with what the server saw.
 */
import type { CloudService } from "./config.ts";

interface OperationSpec {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** The API the operation belongs to: the endpoint it is sent to. */
  service: CloudService;
  /** Creates, deletes and actions: never retried by the client (see AmbiguousCreateError). */
  changesCloud?: true;
}

export const OPERATIONS = {
  createProtectedInstance: {
    method: "POST",
    path: "/v1/{project_id}/protected-instances",
    service: "sdrs",
    changesCloud: true,
  },
  batchCreateProtectedInstances: {
    method: "POST",
    path: "/v1/{project_id}/protected-instances/batch",
    service: "sdrs",
    changesCloud: true,
  },
  listProtectedInstances: { method: "GET", path: "/v1/{project_id}/protected-instances", service: "sdrs" },
  showProtectedInstance: {
    method: "GET",
    path: "/v1/{project_id}/protected-instances/{protected_instance_id}",
    service: "sdrs",
  },
  createProtectionGroup: {
    method: "POST",
    path: "/v1/{project_id}/server-groups",
    service: "sdrs",
    changesCloud: true,
  },
  listProtectionGroups: { method: "GET", path: "/v1/{project_id}/server-groups", service: "sdrs" },
  showProtectionGroup: { method: "GET", path: "/v1/{project_id}/server-groups/{server_group_id}", service: "sdrs" },
  protectionGroupAction: {
    method: "POST",
    path: "/v1/{project_id}/server-groups/{server_group_id}/action",
    service: "sdrs",
    changesCloud: true,
  },
  showJob: { method: "GET", path: "/v1/{project_id}/jobs/{job_id}", service: "sdrs" },
  listActiveDomains: { method: "GET", path: "/v1/{project_id}/active-domains", service: "sdrs" },
  showServer: { method: "GET", path: "/v1/{project_id}/cloudservers/{server_id}", service: "ecs" },
  listServersDetails: { method: "GET", path: "/v1/{project_id}/cloudservers/detail", service: "ecs" },
  showServerTags: { method: "GET", path: "/v1/{project_id}/cloudservers/{server_id}/tags", service: "ecs" },
  listKeypairs: { method: "GET", path: "/v2.1/{project_id}/os-keypairs", service: "ecs" },
  listVolumes: { method: "GET", path: "/v2/{project_id}/cloudvolumes/detail", service: "evs" },
  listScalingGroups: { method: "GET", path: "/autoscaling-api/v1/{project_id}/scaling_group", service: "as" },
  listScalingGroupInstances: {
    method: "GET",
    path: "/autoscaling-api/v1/{project_id}/scaling_group_instance/{scaling_group_id}/list",
    service: "as",
  },
  createToken: { method: "POST", path: "/v3/auth/tokens", service: "iam" },
  // Replication pairs and disks added after protection (docs/coverage.md).
  createReplication: { method: "POST", path: "/v1/{project_id}/replications", service: "sdrs", changesCloud: true },
  listReplications: { method: "GET", path: "/v1/{project_id}/replications", service: "sdrs" },
  showReplication: { method: "GET", path: "/v1/{project_id}/replications/{replication_id}", service: "sdrs" },
  deleteReplication: {
    method: "DELETE",
    path: "/v1/{project_id}/replications/{replication_id}",
    service: "sdrs",
    changesCloud: true,
  },
  replicationAction: {
    method: "POST",
    path: "/v1/{project_id}/replications/{replication_id}/action",
    service: "sdrs",
    changesCloud: true,
  },
  attachReplication: {
    method: "POST",
    path: "/v1/{project_id}/protected-instances/{protected_instance_id}/attachreplication",
    service: "sdrs",
    changesCloud: true,
  },
  detachReplication: {
    method: "DELETE",
    path: "/v1/{project_id}/protected-instances/{protected_instance_id}/detachreplication/{replication_id}",
    service: "sdrs",
    changesCloud: true,
  },
  attachServerVolume: {
    method: "POST",
    path: "/v1/{project_id}/cloudservers/{server_id}/attachvolume",
    service: "ecs",
    changesCloud: true,
  },
  detachServerVolume: {
    method: "DELETE",
    path: "/v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}",
    service: "ecs",
    changesCloud: true,
  },
} as const satisfies Record<string, OperationSpec>;

export type OperationName = keyof typeof OPERATIONS;

/** The API an operation is sent to (sdrs, ecs, evs, as, iam). */
export function serviceOf(name: OperationName): CloudService {
  return OPERATIONS[name].service;
}

/** Whether an operation changes the cloud (a create, delete or action): such calls are never retried. */
export function changesCloud(name: OperationName): boolean {
  const operation: OperationSpec = OPERATIONS[name];
  return operation.changesCloud === true;
}

interface CompiledOperation {
  name: OperationName;
  method: string;
  pattern: RegExp;
  params: string[];
}

const compiled: CompiledOperation[] = (
  Object.entries(OPERATIONS) as [OperationName, (typeof OPERATIONS)[OperationName]][]
)
  .map(([name, { method, path }]) => {
    const params: string[] = [];
    const source = path
      .split("/")
      .map((segment) => {
        const param = /^\{(\w+)\}$/.exec(segment)?.[1];
        if (param === undefined) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        params.push(param);
        return "([^/]+)";
      })
      .join("/");
    return { name, method, pattern: new RegExp(`^${source}/?$`), params };
  })
  // Literal segments win over parameters: /cloudservers/detail before /cloudservers/{server_id}.
  .sort((a, b) => a.params.length - b.params.length);

export interface MatchedOperation {
  name: OperationName;
  params: Record<string, string>;
}

export function matchOperation(method: string, pathname: string): MatchedOperation | undefined {
  for (const operation of compiled) {
    if (operation.method !== method.toUpperCase()) continue;
    const match = operation.pattern.exec(pathname);
    if (!match) continue;
    const params: Record<string, string> = {};
    operation.params.forEach((param, index) => {
      params[param] = decodeURIComponent(match[index + 1] ?? "");
    });
    return { name: operation.name, params };
  }
  return undefined;
}

/** Fills a path template: expandPath("showJob", { project_id: "p", job_id: "j" }) → "/v1/p/jobs/j". */
export function expandPath(name: OperationName, params: Record<string, string>): string {
  return OPERATIONS[name].path.replace(/\{(\w+)\}/g, (_, param: string) => {
    const value = params[param];
    if (value === undefined) throw new Error(`missing path parameter ${param} for ${name}`);
    return encodeURIComponent(value);
  });
}

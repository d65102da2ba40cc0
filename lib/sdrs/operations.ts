/**
 * The cloud API operations this project uses, by name, with their path templates. The client counts
 * requests by these names and the simulator routes and counts by them, so a benchmark can compare
 * what the client thinks it sent with what the server saw.
 */
export const OPERATIONS = {
  createProtectedInstance: { method: "POST", path: "/v1/{project_id}/protected-instances" },
  batchCreateProtectedInstances: { method: "POST", path: "/v1/{project_id}/protected-instances/batch" },
  listProtectedInstances: { method: "GET", path: "/v1/{project_id}/protected-instances" },
  showProtectedInstance: { method: "GET", path: "/v1/{project_id}/protected-instances/{protected_instance_id}" },
  createProtectionGroup: { method: "POST", path: "/v1/{project_id}/server-groups" },
  listProtectionGroups: { method: "GET", path: "/v1/{project_id}/server-groups" },
  showProtectionGroup: { method: "GET", path: "/v1/{project_id}/server-groups/{server_group_id}" },
  protectionGroupAction: { method: "POST", path: "/v1/{project_id}/server-groups/{server_group_id}/action" },
  showJob: { method: "GET", path: "/v1/{project_id}/jobs/{job_id}" },
  listActiveDomains: { method: "GET", path: "/v1/{project_id}/active-domains" },
  showServer: { method: "GET", path: "/v1/{project_id}/cloudservers/{server_id}" },
  listServersDetails: { method: "GET", path: "/v1/{project_id}/cloudservers/detail" },
  showServerTags: { method: "GET", path: "/v1/{project_id}/cloudservers/{server_id}/tags" },
  listKeypairs: { method: "GET", path: "/v2.1/{project_id}/os-keypairs" },
  listVolumes: { method: "GET", path: "/v2/{project_id}/cloudvolumes/detail" },
  listScalingGroups: { method: "GET", path: "/autoscaling-api/v1/{project_id}/scaling_group" },
  listScalingGroupInstances: {
    method: "GET",
    path: "/autoscaling-api/v1/{project_id}/scaling_group_instance/{scaling_group_id}/list",
  },
  createToken: { method: "POST", path: "/v3/auth/tokens" },
  // Replication pairs and disks added after protection (docs/coverage.md).
  createReplication: { method: "POST", path: "/v1/{project_id}/replications" },
  listReplications: { method: "GET", path: "/v1/{project_id}/replications" },
  showReplication: { method: "GET", path: "/v1/{project_id}/replications/{replication_id}" },
  deleteReplication: { method: "DELETE", path: "/v1/{project_id}/replications/{replication_id}" },
  replicationAction: { method: "POST", path: "/v1/{project_id}/replications/{replication_id}/action" },
  attachReplication: { method: "POST", path: "/v1/{project_id}/protected-instances/{protected_instance_id}/attachreplication" },
  detachReplication: {
    method: "DELETE",
    path: "/v1/{project_id}/protected-instances/{protected_instance_id}/detachreplication/{replication_id}",
  },
  attachServerVolume: { method: "POST", path: "/v1/{project_id}/cloudservers/{server_id}/attachvolume" },
  detachServerVolume: { method: "DELETE", path: "/v1/{project_id}/cloudservers/{server_id}/detachvolume/{volume_id}" },
} as const;

export type OperationName = keyof typeof OPERATIONS;

interface CompiledOperation {
  name: OperationName;
  method: string;
  pattern: RegExp;
  params: string[];
}

const compiled: CompiledOperation[] = (Object.entries(OPERATIONS) as [OperationName, (typeof OPERATIONS)[OperationName]][])
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

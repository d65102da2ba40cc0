/**
 * Every documented constraint on creating a protected instance, as a rule with a stable code. The
 * eligibility check (eligibility.ts) reports a rule with a message naming the values that failed; the
 * docs/planning-rules.md's rule table is this table. Order here is the order reasons are reported in.
 *
 * Sources: the SDRS API reference pages for create and batch create, and the documented create constraints,
 * §4.1 (error codes), §5.1 (ECS fields), OTC UMN constraints (unsupported server types).
 */
import type { Reason } from "./types.ts";

export type RuleOutcome = "ineligible" | "deferred" | "warning";

export interface Rule {
  code: string;
  outcome: RuleOutcome;
  /** What the rule means, for the docs table. */
  meaning: string;
  remedy: string;
  sdrsCode?: string;
  /** Deferred rules: when to look again. */
  retryAfterSeconds?: number;
}

/** Group operations (enable protection, failover, reprotect) run for minutes. */
const GROUP_BUSY_RETRY_SECONDS = 300;
/** A create job (or another target's protection) runs for minutes. */
const IN_FLIGHT_RETRY_SECONDS = 300;
/** Server transitions (reboot, resize, build) settle within a minute or two. */
const SERVER_BUSY_RETRY_SECONDS = 60;

export const RULES = {
  INELIGIBLE_TARGET_UNKNOWN: {
    code: "INELIGIBLE_TARGET_UNKNOWN",
    outcome: "ineligible",
    meaning:
      "The requested target (protect tag value, --target or the request's target) is neither a configured target nor a protection group id.",
    remedy: "Add a target of that name to the targets configuration, or use an existing target or protection group id.",
  },
  INELIGIBLE_GROUP_NOT_FOUND: {
    code: "INELIGIBLE_GROUP_NOT_FOUND",
    outcome: "ineligible",
    meaning: "The target protection group does not exist.",
    remedy: "Check the target's protectionGroup id, or let the target create the group.",
    sdrsCode: "SDRS.1013",
  },
  DEFERRED_GROUP_BUSY: {
    code: "DEFERRED_GROUP_BUSY",
    outcome: "deferred",
    meaning:
      "The protection group is in a transient status (creating, starting, stopping, reprotecting, reversing, failing-over, deleting).",
    remedy: "Nothing to do: the server is retried when the group operation has finished.",
    sdrsCode: "SDRS.1323",
    retryAfterSeconds: GROUP_BUSY_RETRY_SECONDS,
  },
  INELIGIBLE_GROUP_STATUS: {
    code: "INELIGIBLE_GROUP_STATUS",
    outcome: "ineligible",
    meaning: "The protection group's status is neither available nor protected (error-*, failed-over, …).",
    remedy:
      "Repair the protection group (retry or clear the failed operation, or fail back) until it is available or protected.",
    sdrsCode: "SDRS.1323",
  },
  INELIGIBLE_SERVER_NOT_FOUND: {
    code: "INELIGIBLE_SERVER_NOT_FOUND",
    outcome: "ineligible",
    meaning: "The server does not exist (deleted, or another project or region).",
    remedy: "Check the server id and that the credentials are for the server's project and region.",
    sdrsCode: "SDRS.1326",
  },
  DEFERRED_SERVER_BUSY: {
    code: "DEFERRED_SERVER_BUSY",
    outcome: "deferred",
    meaning:
      "The server is in a transitional status (BUILD, REBOOT, HARD_REBOOT, RESIZE, VERIFY_RESIZE, REVERT_RESIZE, MIGRATING, REBUILD).",
    remedy: "Nothing to do: the server is retried when it is ACTIVE or SHUTOFF (confirm a pending resize).",
    sdrsCode: "SDRS.1333",
    retryAfterSeconds: SERVER_BUSY_RETRY_SECONDS,
  },
  INELIGIBLE_SERVER_STATUS: {
    code: "INELIGIBLE_SERVER_STATUS",
    outcome: "ineligible",
    meaning: "The server's status is not ACTIVE or SHUTOFF (ERROR, SUSPENDED, PAUSED, SHELVED, DELETED, …).",
    remedy: "Bring the server to ACTIVE or SHUTOFF (repair, resume, unshelve), then tag it again.",
    sdrsCode: "SDRS.1333",
  },
  INELIGIBLE_SERVER_LOCKED: {
    code: "INELIGIBLE_SERVER_LOCKED",
    outcome: "ineligible",
    meaning: "The server is locked (locked flag, or metadata.lockSource such as a pending order).",
    remedy: "Unlock the server or complete the order that locked it.",
    sdrsCode: "SDRS.1357",
  },
  INELIGIBLE_SERVER_FROZEN: {
    code: "INELIGIBLE_SERVER_FROZEN",
    outcome: "ineligible",
    meaning: "The server is frozen (metadata.EcmResStatus = freeze), e.g. for arrears.",
    remedy: "Settle the account or have the server unfrozen.",
  },
  DEFERRED_IN_FLIGHT_ELSEWHERE: {
    code: "DEFERRED_IN_FLIGHT_ELSEWHERE",
    outcome: "deferred",
    meaning: "The server is being protected for another target right now (claimed, creating or its job running).",
    remedy:
      "Nothing to do: the server is decided again for this target when that ends (then usually INELIGIBLE_PROTECTED_ELSEWHERE).",
    retryAfterSeconds: IN_FLIGHT_RETRY_SECONDS,
  },
  DEFERRED_INSTANCE_CREATING: {
    code: "DEFERRED_INSTANCE_CREATING",
    outcome: "deferred",
    meaning:
      "A protected instance of the server in the target's protection group is still being created (status creating).",
    remedy:
      "Nothing to do: the instance is adopted once it is created; if it stays creating, check the job in the SDRS console.",
    retryAfterSeconds: IN_FLIGHT_RETRY_SECONDS,
  },
  INELIGIBLE_PROTECTED_ELSEWHERE: {
    code: "INELIGIBLE_PROTECTED_ELSEWHERE",
    outcome: "ineligible",
    meaning:
      "The server already is the production server of a protected instance in another protection group (one server, one protected instance); the message names that group and its target.",
    remedy:
      "Remove the server's protected instance there first, or set the protect tag back to the target of that group.",
    sdrsCode: "SDRS.1305",
  },
  INELIGIBLE_ALREADY_PROTECTED: {
    code: "INELIGIBLE_ALREADY_PROTECTED",
    outcome: "ineligible",
    meaning:
      "The server already is the production server of a protected instance (one server, one protected instance).",
    remedy: "Nothing to do if it is protected where intended; otherwise delete that protected instance first.",
    sdrsCode: "SDRS.1305",
  },
  INELIGIBLE_DR_SITE_SERVER: {
    code: "INELIGIBLE_DR_SITE_SERVER",
    outcome: "ineligible",
    meaning: "The server is the DR-site server of a protected instance, created by SDRS.",
    remedy: "Remove the protect tag from the DR-site server; protect the production server instead.",
    sdrsCode: "SDRS.1305",
  },
  INELIGIBLE_VPC_MISMATCH: {
    code: "INELIGIBLE_VPC_MISMATCH",
    outcome: "ineligible",
    meaning: "The server is not in the protection group's VPC.",
    remedy: "Tag the server for a target whose protection group is in the server's VPC.",
    sdrsCode: "SDRS.1304",
  },
  INELIGIBLE_AZ_MISMATCH: {
    code: "INELIGIBLE_AZ_MISMATCH",
    outcome: "ineligible",
    meaning:
      "The server is not in the protection group's current production AZ (source or target AZ by priority_station).",
    remedy: "Tag the server for a target whose protection group produces in the server's AZ.",
    sdrsCode: "SDRS.1303",
  },
  INELIGIBLE_DEDICATED_HOST: {
    code: "INELIGIBLE_DEDICATED_HOST",
    outcome: "ineligible",
    meaning: "The production server runs on a dedicated host (DeH), which SDRS does not support (OTC constraint).",
    remedy: "Migrate the server to shared tenancy before protecting it.",
    sdrsCode: "SDRS.1366",
  },
  INELIGIBLE_ECS_GROUP_DEDICATED_TENANCY: {
    code: "INELIGIBLE_ECS_GROUP_DEDICATED_TENANCY",
    outcome: "ineligible",
    meaning:
      "The server is in an ECS group, so its DR server cannot be placed on a dedicated host (tenancy dedicated).",
    remedy: "Use tenancy shared for this target, or remove the server from its ECS group.",
    sdrsCode: "SDRS.1375",
  },
  INELIGIBLE_FLAVOR_UNSUPPORTED: {
    code: "INELIGIBLE_FLAVOR_UNSUPPORTED",
    outcome: "ineligible",
    meaning:
      "The server's flavor family is not supported: GPU (g*, p*, pi*), FPGA (fp*), C6, C9, S9, I9, M9, Kunpeng (k*), large-memory (e*), disk-intensive (d*, i3), bare metal (physical.*).",
    remedy: "Resize the server to a supported (general-purpose, x86, EVS-only) flavor.",
    sdrsCode: "SDRS.1356",
  },
  INELIGIBLE_DR_FLAVOR_UNSUPPORTED: {
    code: "INELIGIBLE_DR_FLAVOR_UNSUPPORTED",
    outcome: "ineligible",
    meaning: "The DR flavor chosen for the server (flavor override or flavorMap) is in an unsupported family.",
    remedy: "Map the production flavor to a supported DR flavor.",
    sdrsCode: "SDRS.1353",
  },
  INELIGIBLE_DR_FLAVOR_NOT_OFFERED: {
    code: "INELIGIBLE_DR_FLAVOR_NOT_OFFERED",
    outcome: "ineligible",
    meaning:
      "The DR flavor chosen for the server (flavor override or flavorMap) is not offered in the protection group's DR-site AZ.",
    remedy: "Map the production flavor to a flavor the DR-site AZ offers.",
    sdrsCode: "SDRS.1353",
  },
  INELIGIBLE_PRIMARY_IP_OUTSIDE_SUBNET: {
    code: "INELIGIBLE_PRIMARY_IP_OUTSIDE_SUBNET",
    outcome: "ineligible",
    meaning: "The primary IP configured for the server's DR server is not inside the configured primarySubnetId.",
    remedy: "Pick an IP inside the subnet's CIDR, or another subnet.",
    sdrsCode: "SDRS.0219",
  },
  INELIGIBLE_NO_SYSTEM_DISK: {
    code: "INELIGIBLE_NO_SYSTEM_DISK",
    outcome: "ineligible",
    meaning: "The server has no system disk attached (no volume with bootIndex 0).",
    remedy: "Attach the server's system disk.",
    sdrsCode: "SDRS.1339",
  },
  INELIGIBLE_DISK_ENCRYPTED: {
    code: "INELIGIBLE_DISK_ENCRYPTED",
    outcome: "ineligible",
    meaning:
      "An attached disk is encrypted (metadata.__system__encrypted = 1); encrypted disks cannot form replication pairs.",
    remedy: "Replace the encrypted disk by an unencrypted copy, or leave the server unprotected.",
    sdrsCode: "SDRS.1802",
  },
  INELIGIBLE_DISK_FROZEN: {
    code: "INELIGIBLE_DISK_FROZEN",
    outcome: "ineligible",
    meaning: "An attached disk is frozen (metadata.__system__frozen = true or status frozen).",
    remedy: "Have the disk unfrozen (settle the account).",
    sdrsCode: "SDRS.0225",
  },
  INELIGIBLE_KEYPAIR_MISSING: {
    code: "INELIGIBLE_KEYPAIR_MISSING",
    outcome: "ineligible",
    meaning: "A Windows server logs in with a key pair that no longer exists; the DR server would fail to create.",
    remedy: "Create a key pair with the same name, then tag the server again.",
  },
  INELIGIBLE_SHARED_DISK_BLOCKED: {
    code: "INELIGIBLE_SHARED_DISK_BLOCKED",
    outcome: "ineligible",
    meaning: "The server has a shared disk and the shared-disk policy is block (current Huawei batch-create page).",
    remedy: "Detach the shared disk, or set sharedDiskPolicy to batch-together where the cloud allows it.",
  },
  INELIGIBLE_SHARED_DISK_PEER_MISSING: {
    code: "INELIGIBLE_SHARED_DISK_PEER_MISSING",
    outcome: "ineligible",
    meaning:
      "A shared disk of the server is attached to servers that are not in the same request; they must be created in one batch.",
    remedy: "Tag every server of the shared-disk cluster for the same target.",
    sdrsCode: "SDRS.1408",
  },
  INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE: {
    code: "INELIGIBLE_SHARED_DISK_CLUSTER_TOO_LARGE",
    outcome: "ineligible",
    meaning: "The servers linked by shared disks are more than one batch create call takes.",
    remedy: "Ask for a higher batch limit for the account (and raise batchLimit), or reduce the servers sharing disks.",
    sdrsCode: "SDRS.1362",
  },
  INELIGIBLE_SHARED_DISK_OPTIONS_CONFLICT: {
    code: "INELIGIBLE_SHARED_DISK_OPTIONS_CONFLICT",
    outcome: "ineligible",
    meaning:
      "Servers linked by shared disks have different creation options, so they cannot share the one batch call they need.",
    remedy:
      "Give every server of the shared-disk cluster the same creation options (tenancy, dedicated host, subnet, cluster, tags, description, name prefix).",
  },
  INELIGIBLE_SHARED_DISK_PEER_INELIGIBLE: {
    code: "INELIGIBLE_SHARED_DISK_PEER_INELIGIBLE",
    outcome: "ineligible",
    meaning:
      "A server linked to this one by a shared disk is ineligible, so the cluster cannot be created in one batch.",
    remedy: "Fix the reasons reported for the named peers.",
    sdrsCode: "SDRS.1408",
  },
  DEFERRED_SHARED_DISK_PEER_DEFERRED: {
    code: "DEFERRED_SHARED_DISK_PEER_DEFERRED",
    outcome: "deferred",
    meaning:
      "A server linked to this one by a shared disk is deferred; the cluster is created together once all are ready.",
    remedy: "Nothing to do: the cluster is retried together.",
  },
  WARN_KEYPAIR_UNVERIFIED: {
    code: "WARN_KEYPAIR_UNVERIFIED",
    outcome: "warning",
    meaning: "A Windows server logs in with a key pair whose existence could not be checked.",
    remedy: "Make sure the key pair exists; otherwise the DR server fails to create.",
  },
  WARN_AUTO_SCALING_MEMBER: {
    code: "WARN_AUTO_SCALING_MEMBER",
    outcome: "warning",
    meaning: "The server belongs to an Auto Scaling group; once protected, scale-in cannot delete it.",
    remedy: "Expect scale-in to skip this server, or exclude AS members from the protect tag.",
  },
  WARN_ENTERPRISE_PROJECT_NOT_CARRIED: {
    code: "WARN_ENTERPRISE_PROJECT_NOT_CARRIED",
    outcome: "warning",
    meaning: "The server is in an enterprise project; its DR server is not put into that enterprise project.",
    remedy: "Move the DR server into the enterprise project after creation if needed.",
  },
  WARN_PRIMARY_IP_NOT_APPLIED: {
    code: "WARN_PRIMARY_IP_NOT_APPLIED",
    outcome: "warning",
    meaning:
      "A primary IP is configured for a server that must go in a batch create (shared disk), and batch create takes no IP.",
    remedy: "Set the DR server's IP after creation, or drop the primaryIpAddresses entry.",
  },
  WARN_CHANGES_NOT_SYNCED: {
    code: "WARN_CHANGES_NOT_SYNCED",
    outcome: "warning",
    meaning:
      "Later changes to the production server's hostname, name, security groups, agency, ECS group, tags and auto recovery are not synced to the DR server.",
    remedy: "Apply such changes to the DR server by hand.",
  },
} as const satisfies Record<string, Rule>;

export type RuleCode = keyof typeof RULES;

// The two tables below are marked pure so that a Lambda bundle whose handler gives no reason drops the
// rules altogether: esbuild keeps a top-level call of every imported module unless it is told it is pure.

/** All rules in reporting order. */
export const RULE_TABLE: readonly Rule[] = /* @__PURE__ */ Object.values(RULES);

const RULE_ORDER = /* @__PURE__ */ new Map<string, number>(
  /* @__PURE__ */ RULE_TABLE.map((rule, index) => [rule.code, index]),
);

/** A reason for a rule: the rule's remedy and SDRS code with a message naming the values that failed. */
export function reasonFor(code: RuleCode, message: string, details?: Reason["details"], sdrsCode?: string): Reason {
  const rule: Rule = RULES[code];
  const answeredCode = sdrsCode ?? rule.sdrsCode;
  return {
    code: rule.code,
    message,
    remedy: rule.remedy,
    ...(answeredCode === undefined ? {} : { sdrsCode: answeredCode }),
    ...(details === undefined ? {} : { details }),
  };
}

/** A deferred rule's retry-after (0 for rules that are not deferred). */
export function retryAfterOf(code: RuleCode): number {
  const rule: Rule = RULES[code];
  return rule.retryAfterSeconds ?? 0;
}

export function ruleFor(code: string): Rule | undefined {
  return (RULES as Record<string, Rule>)[code];
}

/** Reasons in table order (stable for equal codes), so reports are deterministic. */
export function sortReasons(reasons: readonly Reason[]): Reason[] {
  return reasons
    .map((reason, index) => ({ reason, index }))
    .sort(
      (a, b) =>
        (RULE_ORDER.get(a.reason.code) ?? Number.MAX_SAFE_INTEGER) -
          (RULE_ORDER.get(b.reason.code) ?? Number.MAX_SAFE_INTEGER) || a.index - b.index,
    )
    .map(({ reason }) => reason);
}

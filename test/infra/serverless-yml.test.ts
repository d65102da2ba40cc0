/**
 * What serverless.yml promises, checked offline from the file itself (no `osls package`, no AWS):
 * runtime, partial batch responses, queue timing and dead-lettering, the state table, API auth, event
 * sources, one least-privilege role per function, and a package step that needs no cloud lookups.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { STATE_TABLE, stateTableCloudFormation } from "../../lib/aws/table-definition.ts";
import { CTS_EVENT_SOURCE, OWN_EVENT_SOURCE } from "../../lib/events/inventory.ts";
import type { QueueName } from "../../lib/queue/queue.ts";
import { DEAD_LETTER_QUEUE_URL_VARIABLES } from "../../lib/runtime/aws.ts";
import * as z from "../../lib/zod.ts";
import {
  type CloudFormationResource,
  environmentValue,
  getAttTarget,
  loadServerlessYml,
  loadYamlFile,
  PROJECT_ROOT,
  QUEUE_URL_VARIABLES,
  queueOfEnvironment,
  queueProperties,
  refTarget,
  resolveParam,
  resource,
  sqsConsumers,
} from "./serverless-config.ts";

const { text, config } = loadServerlessYml();
const consumers = sqsConsumers(config);

const iamStatement = z.looseObject({
  Effect: z.enum(["Allow", "Deny"]),
  Action: z.pipe(
    z.union([z.string(), z.array(z.string())]),
    z.transform((action) => (Array.isArray(action) ? action : [action])),
  ),
  Resource: z.pipe(
    z.unknown(),
    z.transform((value) => (Array.isArray(value) ? (value as unknown[]) : [value])),
  ),
});
type IamStatement = z.infer<typeof iamStatement>;

const iamRoleProperties = z.looseObject({
  AssumeRolePolicyDocument: z.unknown(),
  ManagedPolicyArns: z._default(z.array(z.unknown()), []),
  Policies: z._default(
    z.array(
      z.looseObject({ PolicyName: z.string(), PolicyDocument: z.looseObject({ Statement: z.array(iamStatement) }) }),
    ),
    [],
  ),
});

function roleOf(functionName: string): { logicalId: string; role: CloudFormationResource } {
  const logicalId = config.functions[functionName]?.role;
  if (!logicalId) throw new Error(`function ${functionName} names no role`);
  return { logicalId, role: resource(config, logicalId) };
}

function allowStatements(functionName: string): IamStatement[] {
  const properties = iamRoleProperties.parse(roleOf(functionName).role.Properties);
  return properties.Policies.flatMap((policy) => policy.PolicyDocument.Statement).filter(
    (statement) => statement.Effect === "Allow",
  );
}

/** The resources `functionName`'s role allows `action` on (as written, intrinsics included). */
function resourcesAllowed(functionName: string, action: string): unknown[] {
  return allowStatements(functionName)
    .filter((statement) => statement.Action.includes(action))
    .flatMap((statement) => statement.Resource);
}

describe("serverless.yml", () => {
  it("runs every function on nodejs24.x (no function overrides the provider's runtime)", () => {
    expect(config.provider.runtime).toBe("nodejs24.x");
    const overrides = Object.entries(config.functions).filter(
      ([, fn]) => fn.runtime !== undefined && fn.runtime !== "nodejs24.x",
    );
    expect(overrides.map(([name]) => name)).toEqual([]);
  });

  it("consumes the three pipeline queues with onboard, jobStatus and notify", () => {
    expect(consumers.map(({ functionName, queueLogicalId }) => `${functionName} ← ${queueLogicalId}`).sort()).toEqual([
      "jobStatus ← JobStatusQueue",
      "notify ← NotifyQueue",
      "onboard ← OnboardingQueue",
    ]);
  });

  it("has every SQS consumer report partial batch failures (functionResponseType ReportBatchItemFailures)", () => {
    for (const consumer of consumers) {
      expect(consumer.event.functionResponseType, consumer.functionName).toBe("ReportBatchItemFailures");
    }
  });

  it("gives each consumed queue a visibility timeout of at least 6 × its consumer's timeout (AWS Lambda guidance)", () => {
    for (const consumer of consumers) {
      const { VisibilityTimeout } = queueProperties(config, consumer.queueLogicalId);
      expect(
        VisibilityTimeout,
        `${consumer.queueLogicalId} vs ${consumer.functionName} (${consumer.timeoutSeconds} s)`,
      ).toBeGreaterThanOrEqual(6 * consumer.timeoutSeconds);
    }
  });

  it("dead-letters each consumed queue into its own DLQ after at least 5 receives, the DLQ keeping messages as long", () => {
    const deadLetterQueues = new Set<string>();
    for (const consumer of consumers) {
      const queue = queueProperties(config, consumer.queueLogicalId);
      expect(queue.RedrivePolicy, consumer.queueLogicalId).toBeDefined();
      expect(queue.RedrivePolicy?.maxReceiveCount, consumer.queueLogicalId).toBeGreaterThanOrEqual(5);
      const deadLetterId = getAttTarget(queue.RedrivePolicy?.deadLetterTargetArn, "Arn");
      expect(deadLetterId, `${consumer.queueLogicalId} deadLetterTargetArn must be !GetAtt <Queue>.Arn`).toBeDefined();
      const deadLetter = queueProperties(config, deadLetterId ?? "");
      expect(deadLetter.RedrivePolicy, `${deadLetterId} must not redrive further`).toBeUndefined();
      // A standard queue's message keeps its original enqueue time in the DLQ: a shorter retention there loses it early.
      expect(deadLetter.MessageRetentionPeriod).toBeGreaterThanOrEqual(queue.MessageRetentionPeriod);
      deadLetterQueues.add(deadLetterId ?? "");
    }
    expect(deadLetterQueues.size).toBe(consumers.length);
  });

  it("caps a consumer with reserved concurrency through its event source mapping (maximumConcurrency ≤ reservedConcurrency)", () => {
    // AWS: event source mappings do not account for reserved concurrency; without a maximum they poll more
    // batches than the function may run, throttled batches return to the queue and count towards the DLQ.
    for (const consumer of consumers.filter((candidate) => candidate.reservedConcurrency !== undefined)) {
      expect(consumer.event.maximumConcurrency, consumer.functionName).toBeDefined();
      expect(consumer.event.maximumConcurrency ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(
        consumer.reservedConcurrency ?? 0,
      );
    }
  });

  it("points each queue URL variable at the queue its consumer reads", () => {
    const consumerQueue = (functionName: string) =>
      consumers.find((consumer) => consumer.functionName === functionName)?.queueLogicalId;
    expect(queueOfEnvironment(config, "ONBOARDING_QUEUE_URL")).toBe(consumerQueue("onboard"));
    expect(queueOfEnvironment(config, "JOB_STATUS_QUEUE_URL")).toBe(consumerQueue("jobStatus"));
    expect(queueOfEnvironment(config, "NOTIFY_QUEUE_URL")).toBe(consumerQueue("notify"));
  });

  it("points each dead-letter URL variable of the runtime at its queue's DLQ, and lets the consumer send there", () => {
    // The consumers put what retrying cannot help into the DLQ themselves (sqsDeadLetterSink), besides SQS's redrive.
    const consumerOf: Record<QueueName, string> = {
      onboarding: "onboard",
      "job-status": "jobStatus",
      notify: "notify",
    };
    for (const [queue, variable] of Object.entries(DEAD_LETTER_QUEUE_URL_VARIABLES) as [QueueName, string][]) {
      const source = queueProperties(config, queueOfEnvironment(config, QUEUE_URL_VARIABLES[queue]));
      const deadLetterId = getAttTarget(source.RedrivePolicy?.deadLetterTargetArn, "Arn");
      expect(queueOfEnvironment(config, variable), variable).toBe(deadLetterId);
      const sendable = resourcesAllowed(consumerOf[queue] ?? "", "sqs:SendMessage").map((arn) =>
        getAttTarget(arn, "Arn"),
      );
      expect(sendable, `${consumerOf[queue]} → ${deadLetterId}`).toContain(deadLetterId);
    }
  });

  it("defines the state table exactly as stateTableCloudFormation(): keys, the byKind GSI, billing and TTL on expiresAt", () => {
    const tableId = refTarget(environmentValue(config, "SDRS_TABLE_NAME"));
    expect(tableId).toBeDefined();
    const table = resource(config, tableId ?? "");
    const expected = stateTableCloudFormation("ignored");
    expect(table.Type).toBe(expected.Type);
    const byName = (a: { AttributeName?: string }, b: { AttributeName?: string }) =>
      (a.AttributeName ?? "").localeCompare(b.AttributeName ?? "");
    const properties = z
      .looseObject({
        BillingMode: z.string(),
        AttributeDefinitions: z.array(z.strictObject({ AttributeName: z.string(), AttributeType: z.string() })),
        KeySchema: z.array(z.strictObject({ AttributeName: z.string(), KeyType: z.string() })),
        GlobalSecondaryIndexes: z.array(z.unknown()),
        TimeToLiveSpecification: z.strictObject({ AttributeName: z.string(), Enabled: z.boolean() }),
      })
      .parse(table.Properties);
    expect(properties.BillingMode).toBe(expected.Properties.BillingMode);
    expect([...properties.AttributeDefinitions].sort(byName)).toEqual(
      [...(expected.Properties.AttributeDefinitions ?? [])].sort(byName),
    );
    expect(properties.KeySchema).toEqual(expected.Properties.KeySchema);
    expect(properties.GlobalSecondaryIndexes).toEqual(expected.Properties.GlobalSecondaryIndexes);
    expect(properties.TimeToLiveSpecification).toEqual({ AttributeName: STATE_TABLE.ttlAttribute, Enabled: true });
  });

  it("serves the onboarding API routes only behind the aws_iam authorizer", () => {
    const routes = Object.entries(config.functions).flatMap(([functionName, fn]) =>
      fn.events.flatMap((event) => ("httpApi" in event ? [{ functionName, route: event.httpApi }] : [])),
    );
    const parsed = routes.map(({ functionName, route }) => ({
      functionName,
      ...z
        .looseObject({
          method: z.string(),
          path: z.string(),
          authorizer: z.optional(z.looseObject({ type: z.string() })),
        })
        .parse(route),
    }));
    expect(parsed.map(({ functionName, method, path }) => `${functionName} ${method} ${path}`).sort()).toEqual([
      "onboardingApi GET /onboarding-requests/{id}",
      "onboardingApi POST /onboarding-requests",
    ]);
    for (const route of parsed) expect(route.authorizer?.type, `${route.method} ${route.path}`).toBe("aws_iam");
  });

  it("routes exactly the inventory event sources to inventoryEvents: OWN_EVENT_SOURCE and CTS_EVENT_SOURCE", () => {
    const rules = (config.functions.inventoryEvents?.events ?? []).flatMap((event) =>
      "eventBridge" in event ? [event.eventBridge] : [],
    );
    expect(rules).toHaveLength(1);
    const rule = z.looseObject({ pattern: z.looseObject({ source: z.array(z.string()) }) }).parse(rules[0]);
    expect([...rule.pattern.source].sort()).toEqual([CTS_EVENT_SOURCE, OWN_EVENT_SOURCE].sort());
  });

  it("gives every function its own IAM role, assumable by Lambda only", () => {
    const roles = Object.keys(config.functions).map((functionName) => roleOf(functionName));
    expect(new Set(roles.map(({ logicalId }) => logicalId)).size).toBe(roles.length);
    for (const { logicalId, role } of roles) {
      expect(role.Type, logicalId).toBe("AWS::IAM::Role");
      const trust = iamRoleProperties.parse(role.Properties).AssumeRolePolicyDocument;
      const file = /^\$\{file\((.+)\)\}$/.exec(String(trust))?.[1];
      const document = z
        .looseObject({
          Statement: z.array(z.looseObject({ Effect: z.string(), Principal: z.unknown(), Action: z.unknown() })),
        })
        .parse(file ? loadYamlFile(join(PROJECT_ROOT, file)) : trust);
      expect(document.Statement, logicalId).toEqual([
        { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
    }
  });

  it("lets each SQS consumer's role receive, delete and read attributes of its own queue (what the event source mapping calls)", () => {
    for (const consumer of consumers) {
      for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) {
        const queues = resourcesAllowed(consumer.functionName, action).map((arn) => getAttTarget(arn, "Arn"));
        expect(queues, `${consumer.functionName} ${action}`).toEqual([consumer.queueLogicalId]);
      }
    }
  });

  it("lets only the functions that call the cloud read the Huawei credentials, and only notify the webhook secrets", () => {
    const huawei = `:secret:\${param:secretName}-*`;
    const webhooks = `:secret:\${param:webhookSecretName}-*`;
    const cloudCallers = ["inventoryEvents", "reconcile", "onboard", "jobStatus"];
    expect(config.provider.environment.SDRS_SECRET_ID).toBeUndefined();
    for (const functionName of Object.keys(config.functions)) {
      // Secrets Manager appends "-" and 6 random characters to a secret's ARN.
      const secrets = resourcesAllowed(functionName, "secretsmanager:GetSecretValue").map((arn) => JSON.stringify(arn));
      const callsCloud = cloudCallers.includes(functionName);
      expect(
        secrets.some((arn) => arn.includes(huawei)),
        `${functionName} reads the Huawei credentials`,
      ).toBe(callsCloud);
      expect(
        secrets.some((arn) => arn.includes(webhooks)),
        `${functionName} reads the webhook secrets`,
      ).toBe(functionName === "notify");
      expect(config.functions[functionName]?.environment?.SDRS_SECRET_ID, functionName).toBe(
        callsCloud ? `\${param:secretName}` : undefined,
      );
    }
    expect(config.functions.notify?.environment?.SDRS_WEBHOOK_SECRET_ID).toBe(`\${param:webhookSecretName}`);
  });

  it("caps every function that calls SDRS with reserved concurrency, within one budget (param sdrsConcurrencyBudget)", () => {
    const budget = Number(resolveParam(config, `\${param:sdrsConcurrencyBudget}`));
    const shares = ["inventoryEvents", "reconcile", "onboard", "jobStatus"].map((functionName) =>
      Number(resolveParam(config, String(config.functions[functionName]?.reservedConcurrency))),
    );
    expect(shares.every((share) => Number.isInteger(share) && share > 0)).toBe(true);
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeLessThanOrEqual(budget);
  });

  it("throttles the HTTP API stage", () => {
    const stage = (
      config as unknown as {
        resources: { extensions?: Record<string, { Properties?: { DefaultRouteSettings?: Record<string, unknown> } }> };
      }
    ).resources.extensions?.HttpApiStage;
    const settings = stage?.Properties?.DefaultRouteSettings ?? {};
    expect(Number(resolveParam(config, settings.ThrottlingRateLimit))).toBeGreaterThan(0);
    expect(Number(resolveParam(config, settings.ThrottlingBurstLimit))).toBeGreaterThan(0);
  });

  it("hands notify the notifications topic when SNS is enabled, and allows publishing to it", () => {
    expect(resource(config, "NotificationsTopic").Condition).toBe("SnsEnabled");
    const topicWhenEnabled = { "Fn::If": ["SnsEnabled", { Ref: "NotificationsTopic" }, { Ref: "AWS::NoValue" }] };
    expect(resolveParam(config, config.functions.notify?.environment?.SNS_TOPIC_ARN)).toEqual(topicWhenEnabled);
    const publishable = resourcesAllowed("notify", "sns:Publish");
    expect(publishable).toHaveLength(1);
    expect(JSON.stringify(publishable[0])).toContain('{"Ref":"NotificationsTopic"}');
  });

  it("takes the table and queues from the shell on stage local (osls invoke local), where no stack exists to !Ref", () => {
    const resourceVariables = [
      "SDRS_TABLE_NAME",
      ...Object.values(QUEUE_URL_VARIABLES),
      ...Object.values(DEAD_LETTER_QUEUE_URL_VARIABLES),
    ];
    for (const variable of resourceVariables) {
      expect(refTarget(environmentValue(config, variable)), `${variable} on a deployed stage`).toBeDefined();
      expect(environmentValue(config, variable, "local"), `${variable} on stage local`).toBe(`\${env:${variable}}`);
    }
    // An intrinsic function left in any function's environment on stage local makes `osls invoke local` query
    // CloudFormation (!Ref) or refuse to run (anything else).
    const intrinsics = Object.entries(config.functions).flatMap(([functionName, fn]) =>
      Object.entries({ ...config.provider.environment, ...fn.environment })
        .filter(([, value]) => typeof resolveParam(config, value, "local") === "object")
        .map(([variable]) => `${functionName}: ${variable}`),
    );
    expect(intrinsics).toEqual([]);
    expect(resolveParam(config, `\${param:secretName}`, "local")).toBe("");
  });

  it("bundles as .mjs for Lambda, and for invoke local as .js in a work folder of its own", () => {
    const esbuild = z
      .looseObject({ outputFileExtension: z.string(), outputWorkFolder: z.string() })
      .parse(config.custom.esbuild);
    expect(resolveParam(config, esbuild.outputFileExtension)).toBe(".mjs");
    expect(resolveParam(config, esbuild.outputFileExtension, "local")).toBe(".js");
    // Lambda's Node.js runtime tries <handler>.js before .mjs: a stale .js bundle in a deployed zip would win.
    const deployed = resolveParam(config, esbuild.outputWorkFolder);
    expect(deployed).toBe(".esbuild");
    expect(resolveParam(config, esbuild.outputWorkFolder, "local")).not.toBe(deployed);
  });

  it("excludes the AWS SDK v3 from the bundles (the nodejs24.x runtime provides it)", () => {
    expect(config.custom.esbuild.exclude).toContain("@aws-sdk/*");
  });

  it("packages offline: no ssm:, cf:, s3: or aws:accountId variable lookups, and every param: variable has a default", () => {
    const withoutComments = text.replace(/(^|\s)#.*$/gm, "$1");
    expect(withoutComments).not.toMatch(/\$\{(ssm|cf|s3|aws:accountId)\b/);
    const defaults = config.params.default ?? {};
    const params = [...withoutComments.matchAll(/\$\{param:([A-Za-z0-9_-]+)\s*(,[^}]*)?\}/g)];
    expect(params.length).toBeGreaterThan(0);
    for (const [, name, fallback] of params) {
      expect(
        name !== undefined && (Object.hasOwn(defaults, name) || fallback !== undefined),
        `\${param:${name}} has no default`,
      ).toBe(true);
    }
  });

  it("includes only files that exist (file(…) variables)", () => {
    for (const [, file] of text.matchAll(/\$\{file\(([^)]+)\)/g)) {
      expect(existsSync(join(PROJECT_ROOT, file ?? "")), file).toBe(true);
    }
  });
});

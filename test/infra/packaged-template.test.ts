/**
 * What the deployment promises for operations, checked on the CloudFormation template `osls package` builds
 * offline (bundles included): the alarms, active tracing, the retained state table, the failure
 * destinations of the asynchronous functions, and visibility timeouts against the function timeouts.
 * One `osls package` into a temporary folder for the whole file (it bundles six functions: seconds).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { METRICS } from "../../lib/metrics.ts";
import * as z from "../../lib/zod.ts";
import { PROJECT_ROOT } from "./serverless-config.ts";

const resourceSchema = z.looseObject({
  Type: z.string(),
  Condition: z.optional(z.string()),
  DeletionPolicy: z.optional(z.string()),
  UpdateReplacePolicy: z.optional(z.string()),
  Properties: z._default(z.record(z.string(), z.unknown()), {}),
});
type Resource = z.infer<typeof resourceSchema>;
const templateSchema = z.looseObject({ Resources: z.record(z.string(), resourceSchema) });

let folder: string;
let resources: Record<string, Resource>;

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), "sdrs-autoprotect-package-"));
  const osls = join(PROJECT_ROOT, "node_modules/.bin/osls");
  await promisify(execFile)(osls, ["package", "--package", folder], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: "1" },
  });
  const template = templateSchema.parse(
    JSON.parse(readFileSync(join(folder, "cloudformation-template-update-stack.json"), "utf8")),
  );
  resources = template.Resources;
}, 180_000);

afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

function ofType(type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

function props<T>(resource: Resource | undefined, schema: z.ZodMiniType<T>): T {
  return schema.parse(resource?.Properties);
}

const getAtt = z.strictObject({ "Fn::GetAtt": z.tuple([z.string(), z.string()]) });
const ref = z.strictObject({ Ref: z.string() });

const alarmProperties = z.looseObject({
  AlarmName: z.string(),
  AlarmDescription: z.string(),
  Namespace: z.optional(z.string()),
  MetricName: z.optional(z.string()),
  Dimensions: z.optional(z.array(z.object({ Name: z.string(), Value: z.unknown() }))),
  Metrics: z.optional(
    z.array(z.looseObject({ Id: z.string(), Expression: z.optional(z.string()), MetricStat: z.optional(z.unknown()) })),
  ),
  Threshold: z.number(),
  ComparisonOperator: z.string(),
  AlarmActions: z.array(z.unknown()).check(z.minLength(1)),
});
type Alarm = z.infer<typeof alarmProperties>;

function alarms(): Alarm[] {
  return ofType("AWS::CloudWatch::Alarm").map(([, resource]) => props(resource, alarmProperties));
}

/** The queue (logical id) a `QueueName` dimension names with !GetAtt <Queue>.QueueName. */
function alarmedQueue(alarm: Alarm, metricName: string): string | undefined {
  if (alarm.Namespace !== "AWS/SQS" || alarm.MetricName !== metricName) return undefined;
  const value = getAtt.safeParse(alarm.Dimensions?.find((dimension) => dimension.Name === "QueueName")?.Value);
  return value.success ? value.data["Fn::GetAtt"][0] : undefined;
}

const functionProperties = z.looseObject({
  FunctionName: z.string(),
  Timeout: z.number(),
  Role: z.unknown(),
  TracingConfig: z.optional(z.object({ Mode: z.string() })),
  ReservedConcurrentExecutions: z.optional(z.number()),
});

describe("the packaged CloudFormation template (npx osls package, offline)", () => {
  it("alarms on any message in every dead-letter queue: the three redrive targets and the asynchronous failure destination", () => {
    const redriveTargets = ofType("AWS::SQS::Queue").flatMap(([, queue]) => {
      const policy = z
        .object({ RedrivePolicy: z.optional(z.object({ deadLetterTargetArn: getAtt })) })
        .parse(queue.Properties).RedrivePolicy;
      return policy ? [policy.deadLetterTargetArn["Fn::GetAtt"][0]] : [];
    });
    const destinations = ofType("AWS::Lambda::EventInvokeConfig").map(
      ([, config]) =>
        getAtt.parse(
          z
            .object({ DestinationConfig: z.object({ OnFailure: z.object({ Destination: z.unknown() }) }) })
            .parse(config.Properties).DestinationConfig.OnFailure.Destination,
        )["Fn::GetAtt"][0],
    );
    const deadLetterQueues = [...new Set([...redriveTargets, ...destinations])].sort();
    expect(deadLetterQueues).toEqual([
      "AsyncFailureQueue",
      "JobStatusDeadLetterQueue",
      "NotifyDeadLetterQueue",
      "OnboardingDeadLetterQueue",
    ]);
    for (const queue of deadLetterQueues) {
      const alarm = alarms().find(
        (candidate) => alarmedQueue(candidate, "ApproximateNumberOfMessagesVisible") === queue,
      );
      expect(alarm, `an alarm on ${queue}`).toBeDefined();
      expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
    }
  });

  it("alarms on the age of the oldest message of the onboarding and job-status queues, at the queueAgeAlarmSeconds default", () => {
    const aged = alarms().flatMap((alarm) => {
      const queue = alarmedQueue(alarm, "ApproximateAgeOfOldestMessage");
      return queue ? [[queue, alarm.Threshold]] : [];
    });
    expect(aged.sort()).toEqual([
      ["JobStatusQueue", 3600],
      ["OnboardingQueue", 3600],
    ]);
  });

  it("alarms on the errors and on the throttles of every function", () => {
    const functionNames = ofType("AWS::Lambda::Function")
      .map(([, fn]) => props(fn, functionProperties).FunctionName)
      .sort();
    expect(functionNames).toHaveLength(6);
    for (const metricName of ["Errors", "Throttles"]) {
      const alarm = alarms().find((candidate) =>
        JSON.stringify(candidate.Metrics ?? []).includes(`"MetricName":"${metricName}"`),
      );
      expect(alarm, `an alarm on Lambda ${metricName}`).toBeDefined();
      const watched = (alarm?.Metrics ?? [])
        .flatMap((query) => {
          const stat = z
            .object({
              Metric: z.object({
                Namespace: z.literal("AWS/Lambda"),
                Dimensions: z.tuple([z.object({ Value: z.string() })]),
              }),
            })
            .safeParse(query.MetricStat);
          return stat.success ? [stat.data.Metric.Dimensions[0].Value] : [];
        })
        .sort();
      expect(watched).toEqual(functionNames);
      expect(alarm?.Metrics?.find((query) => query.Expression !== undefined)?.Expression).toBe("SUM(METRICS())");
    }
  });

  it("alarms on webhook give-ups and on coverage below coverageAlarmThreshold, from the pipeline's own metrics", () => {
    const byMetric = (name: string) =>
      alarms().find((alarm) => alarm.Metrics?.some((query) => query.Expression?.includes(`(${name})`)));
    const giveUps = byMetric("WebhookGiveUps");
    expect(giveUps?.Metrics?.[0]?.Expression).toBe(
      "SELECT SUM(WebhookGiveUps) FROM SdrsAutoprotect WHERE function = 'sdrs-autoprotect-dev-notify'",
    );
    expect(giveUps).toMatchObject({ Threshold: 0, ComparisonOperator: "GreaterThanThreshold" });
    const coverage = byMetric("CoverageRatio");
    expect(coverage?.Metrics?.[0]?.Expression).toBe(
      "SELECT MIN(CoverageRatio) FROM SdrsAutoprotect WHERE function = 'sdrs-autoprotect-dev-reconcile'",
    );
    expect(coverage).toMatchObject({ Threshold: 0.95, ComparisonOperator: "LessThanThreshold" });
  });

  it("sends every alarm to the alarm topic (the stack's own unless alarmTopicArn is given), with an optional email subscription", () => {
    const topic = { "Fn::If": ["OwnAlarmTopic", { Ref: "AlarmTopic" }, ""] };
    for (const alarm of alarms()) expect(alarm.AlarmActions, alarm.AlarmName).toEqual([topic]);
    expect(resources.AlarmTopic).toMatchObject({ Type: "AWS::SNS::Topic", Condition: "OwnAlarmTopic" });
    expect(resources.AlarmEmailSubscription).toMatchObject({
      Type: "AWS::SNS::Subscription",
      Condition: "AlarmEmailSet",
      Properties: { Protocol: "email", TopicArn: topic },
    });
    expect(alarms()).toHaveLength(10);
  });

  it("traces every function actively (X-Ray) and lets each role write trace segments", () => {
    for (const [logicalId, fn] of ofType("AWS::Lambda::Function")) {
      const properties = props(fn, functionProperties);
      expect(properties.TracingConfig, logicalId).toEqual({ Mode: "Active" });
      const role = resources[getAtt.parse(properties.Role)["Fn::GetAtt"][0]];
      expect(
        z.object({ ManagedPolicyArns: z.array(z.string()) }).parse(role?.Properties).ManagedPolicyArns,
        logicalId,
      ).toContain("arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess");
    }
  });

  it("retains the state table on stack deletion and on replacement, with point-in-time recovery on", () => {
    expect(resources.StateTable).toMatchObject({
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } },
    });
  });

  it("gives each asynchronously invoked function (inventoryEvents, reconcile) an SQS on-failure destination its role may send to", () => {
    const configs = ofType("AWS::Lambda::EventInvokeConfig").map(([, config]) =>
      z
        .object({ FunctionName: ref, DestinationConfig: z.object({ OnFailure: z.object({ Destination: getAtt }) }) })
        .parse(config.Properties),
    );
    expect(configs.map((config) => config.FunctionName.Ref).sort()).toEqual([
      "InventoryEventsLambdaFunction",
      "ReconcileLambdaFunction",
    ]);
    for (const config of configs) {
      const [queue, attribute] = config.DestinationConfig.OnFailure.Destination["Fn::GetAtt"];
      expect(resources[queue]?.Type).toBe("AWS::SQS::Queue");
      expect(attribute).toBe("Arn");
      const role = getAtt.parse(props(resources[config.FunctionName.Ref], functionProperties).Role)["Fn::GetAtt"][0];
      expect(JSON.stringify(resources[role]?.Properties), role).toContain(
        JSON.stringify({
          Effect: "Allow",
          Action: ["sqs:SendMessage"],
          Resource: { "Fn::GetAtt": [queue, "Arn"] },
        }).slice(1, -1),
      );
    }
  });

  it("gives every queue an event source mapping reads a visibility timeout of at least 6 × the function's timeout", () => {
    const mappings = ofType("AWS::Lambda::EventSourceMapping").map(([, mapping]) =>
      z.looseObject({ EventSourceArn: getAtt, FunctionName: getAtt }).parse(mapping.Properties),
    );
    expect(mappings).toHaveLength(3);
    for (const mapping of mappings) {
      const queue = mapping.EventSourceArn["Fn::GetAtt"][0];
      const fn = mapping.FunctionName["Fn::GetAtt"][0];
      const { VisibilityTimeout } = z.object({ VisibilityTimeout: z.number() }).parse(resources[queue]?.Properties);
      const { Timeout } = props(resources[fn], functionProperties);
      expect(VisibilityTimeout, `${queue} (${VisibilityTimeout} s) vs ${fn} (${Timeout} s)`).toBeGreaterThanOrEqual(
        6 * Timeout,
      );
    }
  });

  it("reserves onboardConcurrency (default 2) for onboard and caps its event source mapping at the same", () => {
    expect(props(resources.OnboardLambdaFunction, functionProperties).ReservedConcurrentExecutions).toBe(2);
    const mapping = ofType("AWS::Lambda::EventSourceMapping").find(([id]) => id.startsWith("Onboard"))?.[1];
    expect(mapping?.Properties.ScalingConfig).toEqual({ MaximumConcurrency: 2 });
  });

  it("documents every alarm and every metric in docs/operations.md", () => {
    const operations = readFileSync(join(PROJECT_ROOT, "docs/operations.md"), "utf8");
    for (const alarm of alarms())
      expect(operations, alarm.AlarmName).toContain(`| \`${alarm.AlarmName.replace("sdrs-autoprotect-dev-", "")}\` |`);
    for (const metric of Object.keys(METRICS)) expect(operations, metric).toContain(`| \`${metric}\` |`);
  });

  it("has a dashboard whose body is JSON once the queue names are spliced in, charting only metrics the pipeline emits", () => {
    const body = z
      .object({ DashboardBody: z.object({ "Fn::Join": z.tuple([z.literal(""), z.array(z.unknown())]) }) })
      .parse(resources.Dashboard?.Properties);
    const text = body.DashboardBody["Fn::Join"][1]
      .map((part) => (typeof part === "string" ? part : "spliced"))
      .join("");
    const dashboard = z
      .object({
        widgets: z.array(
          z.object({ properties: z.object({ title: z.string(), metrics: z.array(z.array(z.unknown())) }) }),
        ),
      })
      .parse(JSON.parse(text));
    expect(dashboard.widgets.length).toBeGreaterThanOrEqual(8);
    const charted = [...text.matchAll(/\((\w+)\) FROM SdrsAutoprotect/g)].map((match) => match[1] ?? "");
    expect(charted.filter((name) => !(name in METRICS))).toEqual([]);
    expect(new Set(charted)).toContain("CoverageRatio");
  });
});

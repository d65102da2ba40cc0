/**
 * serverless.yml as data, offline and fast: parsed with js-yaml (the parser osls itself uses) and a
 * schema that turns CloudFormation short tags (!Ref, !GetAtt, !Join, !If, …) into their long form
 * ({ Ref }, { "Fn::GetAtt": [...] }, …), then checked with zod. Serverless variables (${param:…},
 * ${sls:stage}, ${file(…)}) stay as text. The infra tests read the deployment's promises from this, and
 * the handler tests build their local queues from it, so neither drifts from what is deployed.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFAULT_SCHEMA, load, Type, type TypeConstructorOptions } from "js-yaml";
import * as z from "../../lib/zod.ts";

/** The queue-URL variables serverless.yml sets (lib/aws/sqs-queue.ts queueUrlsFromEnv reads them), per queue. */
export const QUEUE_URL_VARIABLES = {
  onboarding: "ONBOARDING_QUEUE_URL",
  "job-status": "JOB_STATUS_QUEUE_URL",
  notify: "NOTIFY_QUEUE_URL",
} as const;

export const PROJECT_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const SERVERLESS_YML_PATH = fileURLToPath(new URL("../../serverless.yml", import.meta.url));

type NodeKind = NonNullable<TypeConstructorOptions["kind"]>;

/** The short-form intrinsic functions and the YAML node kinds each may be written with (CloudFormation user guide). */
const INTRINSICS: Record<string, readonly NodeKind[]> = {
  Ref: ["scalar"],
  Condition: ["scalar"],
  GetAtt: ["scalar", "sequence"],
  Sub: ["scalar", "sequence"],
  Join: ["sequence"],
  Select: ["sequence"],
  Split: ["sequence"],
  If: ["sequence"],
  Equals: ["sequence"],
  And: ["sequence"],
  Or: ["sequence"],
  Not: ["sequence"],
  FindInMap: ["sequence"],
  Cidr: ["sequence"],
  Base64: ["scalar", "mapping"],
  ImportValue: ["scalar", "mapping"],
  GetAZs: ["scalar", "mapping"],
};

function longForm(name: string, data: unknown): unknown {
  if (name === "Ref" || name === "Condition") return { [name]: data };
  // `!GetAtt Resource.Attribute` is the scalar spelling of ["Resource", "Attribute"].
  if (name === "GetAtt" && typeof data === "string") {
    const dot = data.indexOf(".");
    return { "Fn::GetAtt": dot < 0 ? [data] : [data.slice(0, dot), data.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: data };
}

const CLOUDFORMATION_SCHEMA = DEFAULT_SCHEMA.extend(
  Object.entries(INTRINSICS).flatMap(([name, kinds]) =>
    kinds.map((kind) => new Type(`!${name}`, { kind, construct: (data) => longForm(name, data) })),
  ),
);

const sqsEventConfig = z.looseObject({
  arn: z.unknown(),
  batchSize: z.optional(z.int()),
  maximumBatchingWindow: z.optional(z.int()),
  maximumConcurrency: z.optional(z.union([z.int(), z.string()])),
  functionResponseType: z.optional(z.string()),
});

const functionConfig = z.looseObject({
  handler: z.string().check(z.minLength(1)),
  role: z.optional(z.string()),
  runtime: z.optional(z.string()),
  timeout: z.optional(z.int().check(z.positive())),
  /** A number, or a `${param:…}` reference (resolved by sqsConsumers). */
  reservedConcurrency: z.optional(z.union([z.int().check(z.nonnegative()), z.string()])),
  environment: z.optional(z.record(z.string(), z.unknown())),
  events: z._default(z.array(z.record(z.string(), z.unknown())), []),
});
export type FunctionConfig = z.infer<typeof functionConfig>;

const cloudFormationResource = z.looseObject({
  Type: z.string(),
  Condition: z.optional(z.string()),
  Properties: z._default(z.record(z.string(), z.unknown()), {}),
});
export type CloudFormationResource = z.infer<typeof cloudFormationResource>;

export const serverlessYml = z.looseObject({
  service: z.string(),
  params: z._default(z.record(z.string(), z.record(z.string(), z.unknown())), {}),
  provider: z.looseObject({
    name: z.literal("aws"),
    runtime: z.string(),
    /** osls' default function timeout is 6 s. */
    timeout: z._default(z.int().check(z.positive()), 6),
    environment: z._default(z.record(z.string(), z.unknown()), {}),
  }),
  custom: z.looseObject({
    esbuild: z.looseObject({ exclude: z._default(z.array(z.string()), []) }),
  }),
  functions: z.record(z.string(), functionConfig),
  resources: z.looseObject({
    Conditions: z._default(z.record(z.string(), z.unknown()), {}),
    Resources: z.record(z.string(), cloudFormationResource),
  }),
});
export type ServerlessYml = z.infer<typeof serverlessYml>;

export interface ServerlessFile {
  /** The file as written (for text checks such as forbidden variable sources). */
  text: string;
  config: ServerlessYml;
}

export function loadServerlessYml(path = SERVERLESS_YML_PATH): ServerlessFile {
  const text = readFileSync(path, "utf8");
  const raw = load(text, { schema: CLOUDFORMATION_SCHEMA, filename: path });
  const parsed = serverlessYml.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${path}: ${parsed.error.issues.map((issue) => `${issue.path.map(String).join(".")}: ${issue.message}`).join("; ")}`,
    );
  }
  return { text, config: parsed.data };
}

/** Parses a YAML file serverless.yml includes with ${file(…)} (same CloudFormation tags). */
export function loadYamlFile(path: string): unknown {
  return load(readFileSync(path, "utf8"), { schema: CLOUDFORMATION_SCHEMA, filename: path });
}

/** The logical id a `{ "Fn::GetAtt": [id, attribute] }` names, when the value is one. */
export function getAttTarget(value: unknown, attribute: string): string | undefined {
  const parsed = z.strictObject({ "Fn::GetAtt": z.tuple([z.string(), z.literal(attribute)]) }).safeParse(value);
  return parsed.success ? parsed.data["Fn::GetAtt"][0] : undefined;
}

/** The logical id a `{ Ref: id }` names, when the value is one. */
export function refTarget(value: unknown): string | undefined {
  const parsed = z.strictObject({ Ref: z.string() }).safeParse(value);
  return parsed.success ? parsed.data.Ref : undefined;
}

export const sqsQueueProperties = z.looseObject({
  /** SQS default: 30 s. */
  VisibilityTimeout: z._default(z.int(), 30),
  /** SQS default: 4 days. */
  MessageRetentionPeriod: z._default(z.int(), 345_600),
  RedrivePolicy: z.optional(z.strictObject({ deadLetterTargetArn: z.unknown(), maxReceiveCount: z.int() })),
});
export type SqsQueueProperties = z.infer<typeof sqsQueueProperties>;

export function resource(config: ServerlessYml, logicalId: string): CloudFormationResource {
  const found = config.resources.Resources[logicalId];
  if (!found) throw new Error(`serverless.yml: no resource ${logicalId}`);
  return found;
}

export function queueProperties(config: ServerlessYml, logicalId: string): SqsQueueProperties {
  const queue = resource(config, logicalId);
  if (queue.Type !== "AWS::SQS::Queue")
    throw new Error(`serverless.yml: ${logicalId} is a ${queue.Type}, not an AWS::SQS::Queue`);
  return sqsQueueProperties.parse(queue.Properties);
}

export interface SqsConsumer {
  functionName: string;
  queueLogicalId: string;
  /** The function's timeout (its own, else the provider's). */
  timeoutSeconds: number;
  reservedConcurrency?: number;
  event: Omit<z.infer<typeof sqsEventConfig>, "maximumConcurrency"> & { maximumConcurrency?: number };
}

/** A number written as such or as a whole-value `${param:…}` with a numeric default. */
function numberOrParam(config: ServerlessYml, value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  const resolved = resolveParam(config, value);
  if (typeof resolved !== "number")
    throw new Error(`serverless.yml: ${what} must be a number or a param with a numeric default`);
  return resolved;
}

/** Every (function, queue) pair of an `sqs` event; the queue must be named with !GetAtt <Queue>.Arn. */
export function sqsConsumers(config: ServerlessYml): SqsConsumer[] {
  return Object.entries(config.functions).flatMap(([functionName, fn]) =>
    fn.events.flatMap((event) => {
      if (!("sqs" in event)) return [];
      const sqs = sqsEventConfig.parse(event.sqs);
      const queueLogicalId = getAttTarget(sqs.arn, "Arn");
      const reservedConcurrency = numberOrParam(config, fn.reservedConcurrency, `${functionName}.reservedConcurrency`);
      const maximumConcurrency = numberOrParam(config, sqs.maximumConcurrency, `${functionName}'s maximumConcurrency`);
      if (!queueLogicalId)
        throw new Error(`serverless.yml: ${functionName}'s sqs event must name its queue as !GetAtt <Queue>.Arn`);
      return [
        {
          functionName,
          queueLogicalId,
          timeoutSeconds: fn.timeout ?? config.provider.timeout,
          ...(reservedConcurrency !== undefined ? { reservedConcurrency } : {}),
          event: { ...sqs, maximumConcurrency },
        },
      ];
    }),
  );
}

/** A whole-value `${param:name}` reference's name. */
export function paramName(value: unknown): string | undefined {
  return typeof value === "string" ? /^\$\{param:([A-Za-z0-9_-]+)\}$/.exec(value)?.[1] : undefined;
}

/** `value` with a whole-value `${param:name}` replaced by its value on `stage` (its params, then params.default), as osls does. */
export function resolveParam(config: ServerlessYml, value: unknown, stage = "default"): unknown {
  const name = paramName(value);
  if (name === undefined) return value;
  const stageParams = config.params[stage] ?? {};
  return Object.hasOwn(stageParams, name) ? stageParams[name] : config.params.default?.[name];
}

/** What provider.environment sets `variable` to on `stage` (default: a deployed stage). */
export function environmentValue(config: ServerlessYml, variable: string, stage = "default"): unknown {
  return resolveParam(config, config.provider.environment[variable], stage);
}

/** The resource a provider.environment variable (ONBOARDING_QUEUE_URL, …) points at with !Ref on a deployed stage. */
export function queueOfEnvironment(config: ServerlessYml, variable: string): string {
  const logicalId = refTarget(environmentValue(config, variable));
  if (!logicalId)
    throw new Error(
      `serverless.yml: provider.environment.${variable} must be !Ref <Queue> (directly or through a param)`,
    );
  return logicalId;
}

export function functionTimeoutSeconds(config: ServerlessYml, functionName: string): number {
  const fn = config.functions[functionName];
  if (!fn) throw new Error(`serverless.yml: no function ${functionName}`);
  return fn.timeout ?? config.provider.timeout;
}

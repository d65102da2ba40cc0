// The CloudWatch dashboard of serverless.yml (DashboardBody: ${file(./infra/dashboard.cjs)}): key metrics of
// the pipeline (namespace SdrsAutoprotect, docs/operations.md "Metrics") and of its queues and functions.
// Written as data here because the body is a JSON string with the stack's queue names spliced in (Fn::Join).
// CommonJS: osls loads ${file()} scripts with require().
const QUEUES = ["OnboardingQueue", "JobStatusQueue", "NotifyQueue"];
const DEAD_LETTER_QUEUES = ["OnboardingDeadLetterQueue", "JobStatusDeadLetterQueue", "NotifyDeadLetterQueue", "AsyncFailureQueue"];
const FUNCTIONS = ["inventoryEvents", "reconcile", "onboardingApi", "onboard", "jobStatus", "notify"];

/** A Metrics Insights query over the pipeline's own metrics. */
const insights = (id, label, query) => [{ id, label, expression: `${query}` }];

module.exports = async ({ resolveVariable }) => {
  const service = await resolveVariable("self:service");
  const stage = await resolveVariable("sls:stage");
  const functionName = (name) => `${service}-${stage}-${name}`;
  const region = "@@AWS::Region@@";
  const widget = (x, y, title, metrics, extra = {}) => ({
    type: "metric",
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region, view: "timeSeries", stat: "Sum", period: 300, metrics, ...extra },
  });
  const body = {
    widgets: [
      widget(0, 0, "Servers settled, by outcome", [
        insights("protected", "protected", "SELECT SUM(ServersProtected) FROM SdrsAutoprotect"),
        insights("failed", "failed", "SELECT SUM(ServersFailed) FROM SdrsAutoprotect"),
        insights("ineligible", "ineligible", "SELECT SUM(ServersIneligible) FROM SdrsAutoprotect"),
        insights("unknown", "unknown", "SELECT SUM(ServersUnknown) FROM SdrsAutoprotect"),
        insights("adopted", "adopted", "SELECT SUM(ServersAdopted) FROM SdrsAutoprotect"),
      ]),
      widget(12, 0, "Coverage by target (reconcile)", [insights("coverage", "", "SELECT MIN(CoverageRatio) FROM SdrsAutoprotect GROUP BY target")], {
        yAxis: { left: { min: 0, max: 1 } },
      }),
      widget(0, 6, "Ineligible servers by reason", [insights("reasons", "", "SELECT SUM(ServersIneligible) FROM SdrsAutoprotect GROUP BY reason")]),
      widget(12, 6, "SDRS create calls, ambiguous creates, throttles", [
        insights("calls", "create calls", "SELECT SUM(CreateCalls) FROM SdrsAutoprotect"),
        insights("ambiguous", "ambiguous creates", "SELECT SUM(AmbiguousCreates) FROM SdrsAutoprotect"),
        insights("throttles", "throttles (APIGW.0308, 429)", "SELECT SUM(Throttles) FROM SdrsAutoprotect"),
      ]),
      widget(0, 12, "Cloud errors by code", [insights("errors", "", "SELECT SUM(CloudErrors) FROM SdrsAutoprotect GROUP BY code")]),
      widget(12, 12, "SDRS job duration (ms) and checks per job", [
        insights("duration", "duration p-max", "SELECT MAX(JobDuration) FROM SdrsAutoprotect"),
        insights("durationAvg", "duration avg", "SELECT AVG(JobDuration) FROM SdrsAutoprotect"),
        insights("checks", "checks per job (avg)", "SELECT AVG(JobChecks) FROM SdrsAutoprotect"),
      ]),
      widget(0, 18, "Webhooks", [
        insights("delivered", "delivered", "SELECT SUM(WebhookDeliveries) FROM SdrsAutoprotect"),
        insights("failedAttempts", "failed attempts", "SELECT SUM(WebhookFailures) FROM SdrsAutoprotect"),
        insights("giveUps", "gave up", "SELECT SUM(WebhookGiveUps) FROM SdrsAutoprotect"),
        insights("deadLettered", "dead-lettered messages", "SELECT SUM(DeadLetteredMessages) FROM SdrsAutoprotect"),
      ]),
      widget(
        12,
        18,
        "Queue backlog and dead letters",
        [...QUEUES, ...DEAD_LETTER_QUEUES].map((queue) => ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", `@@${queue}@@`, { label: queue }]),
        { stat: "Maximum" },
      ),
      widget(
        0,
        24,
        "Function errors and throttles",
        FUNCTIONS.flatMap((name) => [
          ["AWS/Lambda", "Errors", "FunctionName", functionName(name), { label: `${name} errors` }],
          ["AWS/Lambda", "Throttles", "FunctionName", functionName(name), { label: `${name} throttles` }],
        ]),
      ),
      widget(
        12,
        24,
        "Oldest message age (s)",
        QUEUES.map((queue) => ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", `@@${queue}@@`, { label: queue }]),
        { stat: "Maximum" },
      ),
    ],
  };
  // "@@Logical@@" → the queue's name (Fn::GetAtt), "@@AWS::Region@@" → the region (Ref).
  const parts = JSON.stringify(body)
    .split(/@@([A-Za-z:]+)@@/)
    .map((part, index) => (index % 2 === 0 ? part : part.includes("::") ? { Ref: part } : { "Fn::GetAtt": [part, "QueueName"] }));
  return { "Fn::Join": ["", parts] };
};

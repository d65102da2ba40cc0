import { describe, expect, it } from "vitest";
import {
  AmbiguousCreateError,
  CloudApiError,
  cloudApiErrorFromResponse,
  isCloudClientError,
  readErrorBody,
} from "../../lib/sdrs/errors.ts";

describe("readErrorBody (the Go SDK rule)", () => {
  it.each([
    ["error", { error: { code: "SDRS.1305", message: "server already protected" } }, "SDRS.1305"],
    ["badrequest", { badrequest: { code: "SDRS.0201", message: "invalid parameters" } }, "SDRS.0201"],
    ["itemNotFound", { itemNotFound: { code: "SDRS.1013", message: "protection group not found" } }, "SDRS.1013"],
    ["ECS error", { error: { code: "Ecs.0114", message: "Instance[abc] could not be found." } }, "Ecs.0114"],
  ])("reads the SDRS/ECS %s envelope", (_, body, code) => {
    expect(readErrorBody(body)?.code).toBe(code);
  });

  it("reads the API gateway body with its request id", () => {
    expect(
      readErrorBody({
        error_code: "APIGW.0308",
        error_msg: "The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute",
        request_id: "req-1",
      }),
    ).toEqual({
      code: "APIGW.0308",
      message: "The throttling threshold has been reached: policy user over ratelimit,limit:100,time:1 minute",
      requestId: "req-1",
    });
  });

  it("prefers top-level error_code/error_msg over a nested envelope", () => {
    expect(
      readErrorBody({ error_code: "APIGW.0301", error_msg: "bad sig", error: { code: "X", message: "y" } })?.code,
    ).toBe("APIGW.0301");
  });

  it.each([[null], ["text"], [[]], [{}], [{ error: "flat string" }]])("finds nothing in %j", (body) => {
    expect(readErrorBody(body)).toBeUndefined();
  });
});

describe("cloudApiErrorFromResponse", () => {
  it("makes a 400 SDRS error non-retryable and names operation, code and status", () => {
    const error = cloudApiErrorFromResponse({
      operation: "createProtectedInstance",
      status: 400,
      bodyText: '{"error":{"code":"SDRS.1305","message":"The server is already used by a protected instance."}}',
      headerRequestId: "abc",
    });
    expect(error).toMatchObject({
      status: 400,
      code: "SDRS.1305",
      retryable: false,
      requestId: "abc",
      operation: "createProtectedInstance",
    });
    expect(error.message).toBe(
      "createProtectedInstance failed with SDRS.1305 (HTTP 400): The server is already used by a protected instance. [request abc]",
    );
    expect(isCloudClientError(error)).toBe(true);
  });

  it.each([[429], [500], [502], [503], [504]])("makes HTTP %i retryable", (status) => {
    expect(
      cloudApiErrorFromResponse({ operation: "showJob", status, bodyText: "", headerRequestId: undefined }).retryable,
    ).toBe(true);
  });

  it("takes the request id from the body when the header is missing", () => {
    const error = cloudApiErrorFromResponse({
      operation: "showJob",
      status: 401,
      bodyText: '{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information","request_id":"r-9"}',
      headerRequestId: undefined,
    });
    expect(error).toMatchObject({ code: "APIGW.0301", requestId: "r-9", retryable: false });
  });

  it("quotes an unrecognised body under HTTP_ERROR", () => {
    const error = cloudApiErrorFromResponse({
      operation: "showJob",
      status: 502,
      bodyText: "<html>Bad Gateway</html>",
      headerRequestId: undefined,
    });
    expect(error).toMatchObject({ code: "HTTP_ERROR", retryable: true });
    expect(error.message).toContain("unrecognised error body: <html>Bad Gateway</html>");
  });

  it("reports the attempts made when retries gave up", () => {
    const error = new CloudApiError({
      status: 503,
      code: "SDRS.0011",
      message: "internal error",
      requestId: undefined,
      operation: "showJob",
      retryable: true,
    }).withAttempts(4);
    expect(error.attempts).toBe(4);
    expect(error.message).toContain("(gave up after 4 attempts)");
  });
});

describe("AmbiguousCreateError", () => {
  it("carries the operation and the body so the caller can look the outcome up", () => {
    const body = { protected_instance: { server_group_id: "g", server_id: "s", name: "n" } };
    const error = new AmbiguousCreateError({
      operation: "createProtectedInstance",
      requestBody: body,
      reason: "connection_dropped",
    });
    expect(error).toMatchObject({
      code: "AMBIGUOUS_CREATE",
      retryable: false,
      operation: "createProtectedInstance",
      requestBody: body,
    });
    expect(error.message).toBe(
      "createProtectedInstance: outcome unknown (the connection dropped after the request was sent); check whether it was applied before trying again",
    );
  });
});

import { describe, expect, it } from "vitest";
import {
  canonicalRequest,
  parseAuthorization,
  signature,
  signRequest,
  stringToSign,
  verifySignature,
} from "../../lib/sdrs/signer.ts";

const goSdkKeys = { accessKey: "AccessKey", secretKey: "SecretKey" };

describe("AK/SK signing (SDK-HMAC-SHA256)", () => {
  it("reproduces the Go SDK GET vector (V1)", () => {
    const request = {
      method: "GET",
      url: "https://example.huaweicloud.com/path?limit=1",
      headers: { "X-Sdk-Date": "20060102T150405Z" },
    };
    expect(canonicalRequest(request, ["x-sdk-date"])).toBe(
      "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(signRequest(request, goSdkKeys, new Date()).Authorization).toBe(
      "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624",
    );
  });

  it("reproduces the Go SDK POST vector (V2), hashing the exact body bytes including the trailing newline", () => {
    const request = {
      method: "POST",
      url: "https://example.huaweicloud.com/path?key=value",
      headers: { "X-Sdk-Date": "20060102T150405Z" },
      body: '{"Name":"test","Id":1}\n',
    };
    const { Authorization } = signRequest(request, goSdkKeys, new Date());
    expect(Authorization).toContain("Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59");
    const withoutNewline = signRequest({ ...request, body: '{"Name":"test","Id":1}' }, goSdkKeys, new Date());
    expect(withoutNewline.Authorization).not.toBe(Authorization);
  });

  it("reproduces the Huawei signing-guide final step (V3)", () => {
    const toSign =
      "SDK-HMAC-SHA256\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a";
    expect(signature("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", toSign)).toBe(
      "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe",
    );
  });

  it("reproduces the SDRS create regression vector (V4)", () => {
    const { Authorization } = signRequest(
      {
        method: "POST",
        url: "https://sdrs.eu-de.otc.t-systems.com/v1/0123456789abcdef0123456789abcdef/protected-instances",
        headers: {
          "Content-Type": "application/json",
          Host: "sdrs.eu-de.otc.t-systems.com",
          "X-Project-Id": "0123456789abcdef0123456789abcdef",
          "X-Sdk-Date": "20240102T030405Z",
        },
        body: '{"protected_instance":{"server_group_id":"g1","server_id":"s1","name":"pi-1"}}',
      },
      { accessKey: "AK", secretKey: "SK_EXAMPLE" },
      new Date(),
    );
    expect(Authorization).toBe(
      "SDK-HMAC-SHA256 Access=AK, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature=2f3d832a2675fb4d2b609c095c7b452ad763f737295466a9f1f2a8f920a156c3",
    );
  });

  it("reproduces the encoded array query vector (V5)", () => {
    const { Authorization } = signRequest(
      {
        method: "GET",
        url: "https://sdrs.example.com/v1/p/protected-instances?limit=100&offset=0&server_group_ids=%5B%22a%22%2C%22b%22%5D&status=available",
        headers: { Host: "sdrs.example.com", "X-Sdk-Date": "20240102T030405Z" },
      },
      { accessKey: "AK", secretKey: "SK_EXAMPLE" },
      new Date(),
    );
    expect(Authorization).toContain("Signature=5ef4cb5641f13276f8d0597be607b7cffe1233db6ae2617cc73d71fcdeaa4482");
  });

  it("verifies its own signature and rejects a wrong key", () => {
    const request = {
      method: "GET",
      url: "http://127.0.0.1:9999/v1/p/jobs/j1",
      headers: { Host: "127.0.0.1:9999", "X-Project-Id": "p" },
    };
    const signed = signRequest(request, goSdkKeys, new Date("2026-01-01T00:00:00Z"));
    const parsed = parseAuthorization(signed.Authorization);
    expect(parsed).toBeDefined();
    if (!parsed) return;
    const sent = { ...request, headers: { ...request.headers, "X-Sdk-Date": signed["X-Sdk-Date"] } };
    expect(verifySignature(sent, parsed, "SecretKey")).toBe(true);
    expect(verifySignature(sent, parsed, "WrongKey")).toBe(false);
    expect(stringToSign("20060102T150405Z", "x")).toMatch(/^SDK-HMAC-SHA256\n20060102T150405Z\n[0-9a-f]{64}$/);
  });
});

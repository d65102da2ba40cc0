/**
 * lib/zod.ts: zod/mini with the English messages, and objects on zod's compiled fast path (as classic's).
 */
import { describe, expect, it } from "vitest";
import * as z from "../../lib/zod.ts";

describe("lib/zod.ts", () => {
  const server = z.strictObject({ serverId: z.string().check(z.minLength(1)), flavorRef: z.optional(z.string()) });

  it("builds objects on the compiled path, still mini objects with their shape", () => {
    for (const schema of [server, z.object({ a: z.number() }), z.looseObject({ a: z.number() })]) {
      expect(schema._zod.traits.has("$ZodObjectJIT")).toBe(true);
      expect(schema).toBeInstanceOf(z.ZodMiniObject);
      expect(Object.keys(schema.shape)).toEqual(Object.keys(schema._zod.def.shape));
    }
  });

  it("reports issues in English, naming the rule", () => {
    const result = server.safeParse({ serverId: "", extra: 1 });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path.join("."), issue.message])).toEqual([
      ["serverId", "Too small: expected string to have >=1 characters"],
      ["", 'Unrecognized key: "extra"'],
    ]);
  });

  it("strips, refuses or keeps unknown keys as object, strictObject and looseObject do", () => {
    expect(z.object({ a: z.number() }).parse({ a: 1, b: 2 })).toEqual({ a: 1 });
    expect(z.looseObject({ a: z.number() }).parse({ a: 1, b: 2 })).toEqual({ a: 1, b: 2 });
    expect(server.safeParse({ serverId: "x", b: 2 }).success).toBe(false);
    expect(server.parse({ serverId: "x" })).toEqual({ serverId: "x" });
  });
});

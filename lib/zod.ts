/**
 * zod for the whole project: every module imports it from here (`import * as z from "../zod.ts"`), never
 * from "zod" (lint refuses that; docs/benchmarks.md has the figures).
 *
 * `zod/mini` is the same zod core as the classic API, so a schema parses and reports exactly as before,
 * but it is built from functions (`z.optional(s)`, `s.check(z.minLength(1))`) instead of methods on every
 * schema, so a bundle holds only what it calls: about a third of classic's ~100 KB, which always bundles
 * its JSON Schema support and every method.
 *
 * Classic configures two things on its first schema that mini leaves unset, so they are configured here,
 * once, before any schema parses: the English error messages (every message a user reads, and the tests
 * assert, is the English locale's), and the memoizer (repeat visits of one object in a parse, and a
 * reference cycle through a transform reported as an error). The locale is imported on its own:
 * `z.locales.en()` would bundle every locale.
 */

import { config, type core, memoizer, never, unknown, type util, type ZodMiniObject, ZodMiniType } from "zod/mini";
import { $constructor, $ZodObjectJIT, util as coreUtil } from "zod/v4/core";
import en from "zod/v4/locales/en.js";

export * from "zod/mini";

config({ ...en(), memoizer: memoizer() });

/**
 * Objects parse through zod's compiled fast path ($ZodObjectJIT), as classic's do: mini's own objects walk
 * their shape on every parse, which at fleet size (every record is checked on each read and write) cost
 * about 9 % more CPU in `npm run bench -- --scale 10000` (docs/benchmarks.md). Same checks, same issues:
 * the compiled path falls back to the walk wherever it does not apply.
 */
const CompiledObject: typeof ZodMiniObject = $constructor("ZodMiniObject", (inst, def) => {
  $ZodObjectJIT.init(inst, def);
  ZodMiniType.init(inst, def);
  coreUtil.installLazyProp(inst, "shape", (self: core.$ZodObject) => self._zod.def.shape, false);
}) as typeof ZodMiniObject;

type Shape = core.$ZodLooseShape;
type ObjectParams = string | core.$ZodObjectParams;

export function object<T extends Shape = Record<never, core.SomeType>>(shape?: T, params?: ObjectParams) {
  return new CompiledObject({
    type: "object",
    shape: shape ?? {},
    ...coreUtil.normalizeParams(params),
  }) as ZodMiniObject<util.Writeable<T>, core.$strip>;
}

export function strictObject<T extends Shape>(shape: T, params?: ObjectParams) {
  return new CompiledObject({
    type: "object",
    shape,
    catchall: never(),
    ...coreUtil.normalizeParams(params),
  }) as ZodMiniObject<util.Writeable<T>, core.$strict>;
}

export function looseObject<T extends Shape>(shape: T, params?: ObjectParams) {
  return new CompiledObject({
    type: "object",
    shape,
    catchall: unknown(),
    ...coreUtil.normalizeParams(params),
  }) as ZodMiniObject<util.Writeable<T>, core.$loose>;
}

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

import { config, memoizer } from "zod/mini";
import en from "zod/v4/locales/en.js";

export * from "zod/mini";

config({ ...en(), memoizer: memoizer() });

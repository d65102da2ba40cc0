// js-yaml (installed with osls) ships no types; this is the part of its API the tests use (node_modules/js-yaml/README.md).
declare module "js-yaml" {
  export type NodeKind = "scalar" | "sequence" | "mapping";

  export interface TypeOptions {
    kind: NodeKind;
    construct?: (data: unknown) => unknown;
  }

  export class Type {
    constructor(tag: string, options: TypeOptions);
  }

  export interface Schema {
    extend(types: Type[]): Schema;
  }

  export const DEFAULT_SCHEMA: Schema;

  export function load(text: string, options?: { schema?: Schema; filename?: string }): unknown;
}

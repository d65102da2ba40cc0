/**
 * The module graph of lib/ has no cycles (type-only imports included): each area depends on the ones
 * below it, and production code never imports the simulator or the CLI.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const LIB = join(REPO, "lib");
const IMPORT = /(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\("(\.[^"]+)"\)/g;

function moduleGraph(): Map<string, string[]> {
  const files = readdirSync(LIB, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(".ts"));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const source = readFileSync(join(LIB, file), "utf8");
    const targets = [...source.matchAll(IMPORT)].map((match) =>
      normalize(join(dirname(file), match[1] ?? match[2] ?? "")),
    );
    graph.set(normalize(file), targets);
  }
  return graph;
}

/** The strongly connected components with more than one module (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node) ?? 0);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
        onStack.delete(member);
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("lib/ module graph", () => {
  const graph = moduleGraph();

  it("reads every module of lib/", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get(normalize("sdrs/client.ts"))).toContain(normalize("sdrs/transport.ts"));
  });

  it("has no import cycles", () => {
    expect(cycles(graph)).toEqual([]);
  });

  it("finds a cycle when there is one", () => {
    const looped = new Map(graph);
    looped.set("a.ts", ["b.ts"]);
    looped.set("b.ts", ["a.ts"]);
    expect(cycles(looped)).toEqual([["a.ts", "b.ts"]]);
  });

  it("keeps the simulator and the CLI out of production code", () => {
    const production = [
      "sdrs",
      "pipeline",
      "planning",
      "state",
      "queue",
      "aws",
      "notify",
      "runtime",
      "events",
      "coverage",
      "config",
    ];
    const offending = [...graph]
      .filter(([file]) => production.includes(file.split("/")[0] ?? ""))
      .flatMap(([file, targets]) =>
        targets.filter((target) => /^(sim|cli)\//.test(target)).map((target) => `${file} → ${relative(".", target)}`),
      );
    expect(offending).toEqual([]);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { packIntoBins } from "../../lib/planning/packing.ts";
import { bruteForceBinCount } from "./brute-force.ts";

interface Item {
  id: number;
  size: number;
}

const items = (sizes: readonly number[]): Item[] => sizes.map((size, id) => ({ id, size }));
const pack = (sizes: readonly number[], capacity: number) => packIntoBins(items(sizes), (item) => item.size, capacity);

function expectValidPacking(bins: Item[][], sizes: readonly number[], capacity: number) {
  for (const bin of bins) expect(bin.reduce((sum, item) => sum + item.size, 0)).toBeLessThanOrEqual(capacity);
  expect(
    bins
      .flat()
      .map((item) => item.id)
      .sort((a, b) => a - b),
  ).toEqual(sizes.map((_, id) => id));
}

describe("packIntoBins", () => {
  it("packs sizes 3, 3, 2, 2 into two bins of 5", () => {
    expect(pack([3, 3, 2, 2], 5).map((bin) => bin.map((item) => item.size))).toEqual([
      [3, 2],
      [3, 2],
    ]);
  });

  it("finds 4 bins where First-Fit Decreasing needs 5 (capacity 7)", () => {
    const sizes = [6, 3, 3, 3, 3, 2, 2, 2, 2, 1, 1];
    const bins = pack(sizes, 7);
    expectValidPacking(bins, sizes, 7);
    expect(bins).toHaveLength(4);
  });

  it("refuses an item larger than the capacity", () => {
    expect(() => pack([6], 5)).toThrowError(RangeError);
  });

  /** Generated capacities and sizes; the packing must be valid and as small as brute force finds. */
  function optimalAgainstBruteForce(minCapacity: number, maxCapacity: number, maxItems: number) {
    fc.assert(
      fc.property(
        fc
          .integer({ min: minCapacity, max: maxCapacity })
          .chain((capacity) =>
            fc.tuple(fc.constant(capacity), fc.array(fc.integer({ min: 1, max: capacity }), { maxLength: maxItems })),
          ),
        ([capacity, sizes]) => {
          const bins = pack(sizes, capacity);
          expectValidPacking(bins, sizes, capacity);
          expect(bins.length).toBe(bruteForceBinCount(sizes, capacity));
        },
      ),
      { numRuns: 1000 },
    );
  }

  it("is optimal against brute force for capacities up to 5 (First-Fit Decreasing alone)", () => {
    optimalAgainstBruteForce(1, 5, 12);
  });

  it("is optimal against brute force for capacities 6 to 10 (branch-and-bound)", () => {
    optimalAgainstBruteForce(6, 10, 11);
  });
});

/**
 * Bin packing of shared-disk clusters (and lone servers) into batch create calls of at most `capacity`
 * servers: the fewest bins is the fewest SDRS calls.
 *
 * Algorithm: First-Fit Decreasing (FFD), then, only when FFD misses the lower bound and the capacity
 * is above 5, an exact depth-first branch-and-bound seeded with the FFD result.
 *
 * Bounds:
 * - FFD in general: FFD ≤ 11/9·OPT + 6/9 (Dósa 2007).
 * - Integer sizes with capacity ≤ 5 (the default batch limit is 5): FFD is optimal. Proof for 5
 *   (smaller capacities alike): items of size ≥ 3 cannot share a bin, so OPT ≥ n5 + n4 + n3; a 2 fits
 *   only beside a 3 or beside other 2s/1s, so OPT ≥ n5 + n4 + n3 + ⌈max(0, n2 − n3)/2⌉; and
 *   OPT ≥ ⌈Σsize/5⌉. FFD opens one bin per item ≥ 3, puts each 2 first beside a 3 (4-bins have no
 *   room), pairs the rest, and fills every gap with 1s in bin order before opening a bin. If a 1 opens
 *   a bin, every earlier bin is full, so FFD = ⌈Σsize/5⌉; otherwise FFD meets the second bound. The
 *   tests also compare it with brute force.
 * - Capacity 7 already has FFD counterexamples (sizes 6,3,3,3,3,2,2,2,2,1,1: FFD 5 bins, optimum 4),
 *   so above 5 the branch-and-bound runs, within SEARCH_BUDGET nodes; a search that runs out of
 *   budget keeps the best packing found (never worse than FFD).
 */

/** Branch-and-bound nodes visited at most, so a large exotic input cannot stall planning. */
const SEARCH_BUDGET = 200_000;

/**
 * Packs items into the fewest bins of `capacity`. Deterministic: items of equal size keep their input
 * order, and bins come out in the order they were opened (largest items first).
 */
export function packIntoBins<T>(items: readonly T[], sizeOf: (item: T) => number, capacity: number): T[][] {
  for (const item of items) {
    const size = sizeOf(item);
    if (!Number.isInteger(size) || size < 1 || size > capacity)
      throw new RangeError(`item size ${size} is not an integer in 1..${capacity}`);
  }
  // Array.prototype.sort is stable: equal sizes keep input order.
  const sorted = items.map((item) => ({ item, size: sizeOf(item) })).sort((a, b) => b.size - a.size);
  const firstFit = firstFitDecreasing(sorted, capacity);
  if (capacity <= 5 || firstFit.length <= lowerBound(sorted, capacity))
    return firstFit.map((bin) => bin.map(({ item }) => item));
  return branchAndBound(sorted, capacity, firstFit).map((bin) => bin.map(({ item }) => item));
}

interface Sized<T> {
  item: T;
  size: number;
}

function firstFitDecreasing<T>(sorted: readonly Sized<T>[], capacity: number): Sized<T>[][] {
  const bins: Sized<T>[][] = [];
  const loads: number[] = [];
  for (const entry of sorted) {
    const index = loads.findIndex((load) => load + entry.size <= capacity);
    if (index === -1) {
      bins.push([entry]);
      loads.push(entry.size);
    } else {
      bins[index]?.push(entry);
      loads[index] = (loads[index] ?? 0) + entry.size;
    }
  }
  return bins;
}

/** max(⌈Σsize/capacity⌉, number of items larger than half the capacity). */
function lowerBound<T>(sorted: readonly Sized<T>[], capacity: number): number {
  const total = sorted.reduce((sum, { size }) => sum + size, 0);
  return Math.max(Math.ceil(total / capacity), sorted.filter(({ size }) => 2 * size > capacity).length);
}

function branchAndBound<T>(sorted: readonly Sized<T>[], capacity: number, seed: Sized<T>[][]): Sized<T>[][] {
  const target = lowerBound(sorted, capacity);
  let best = seed;
  let budget = SEARCH_BUDGET;
  const remaining: number[] = [];
  for (let index = sorted.length - 1, sum = 0; index >= 0; index--) {
    sum += sorted[index]?.size ?? 0;
    remaining[index] = sum;
  }
  const bins: Sized<T>[][] = [];
  const loads: number[] = [];
  const search = (index: number): void => {
    if (budget-- <= 0 || best.length <= target) return;
    if (index === sorted.length) {
      best = bins.map((bin) => [...bin]);
      return;
    }
    const free = loads.reduce((sum, load) => sum + capacity - load, 0);
    if (bins.length + Math.ceil(Math.max(0, (remaining[index] ?? 0) - free) / capacity) >= best.length) return;
    const entry = sorted[index];
    if (entry === undefined) return;
    // Bins with the same load are interchangeable: try one of each.
    const triedLoads = new Set<number>();
    for (let bin = 0; bin < bins.length; bin++) {
      const load = loads[bin] ?? 0;
      if (load + entry.size > capacity || triedLoads.has(load)) continue;
      triedLoads.add(load);
      bins[bin]?.push(entry);
      loads[bin] = load + entry.size;
      search(index + 1);
      bins[bin]?.pop();
      loads[bin] = load;
    }
    bins.push([entry]);
    loads.push(entry.size);
    search(index + 1);
    bins.pop();
    loads.pop();
  };
  search(0);
  return best;
}

/** The fewest bins by exhaustive search: the reference the planner's packing is checked against. */
export function bruteForceBinCount(sizes: readonly number[], capacity: number): number {
  let best = sizes.length;
  const loads: number[] = [];
  const place = (index: number) => {
    if (loads.length >= best) return;
    if (index === sizes.length) {
      best = loads.length;
      return;
    }
    const size = sizes[index] ?? 0;
    for (let bin = 0; bin < loads.length; bin++) {
      if ((loads[bin] ?? 0) + size > capacity) continue;
      loads[bin] = (loads[bin] ?? 0) + size;
      place(index + 1);
      loads[bin] = (loads[bin] ?? 0) - size;
    }
    loads.push(size);
    place(index + 1);
    loads.pop();
  };
  place(0);
  return best;
}

// One colour per unit, the same on every chart and card (by the unit's name, not its position).
const PALETTE = [
  "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#393b79", "#ad494a", "#637939", "#7b4173", "#8c6d31", "#3182bd",
];
const assigned = new Map();

export function setUnitOrder(units) {
  units.forEach((unit, i) => {
    if (!assigned.has(unit)) assigned.set(unit, PALETTE[assigned.size % PALETTE.length]);
  });
}

export function colorOf(unit) {
  if (!assigned.has(unit)) assigned.set(unit, PALETTE[assigned.size % PALETTE.length]);
  return assigned.get(unit);
}

// A small x-y plot (calibration curves): measured points and a fitted curve.
import uPlot from "uplot";
import { useEffect, useRef } from "preact/hooks";

/** points: {x: [], y: []}; curve: (x) => y or null; labels: {x, y}. */
export function XYPlot({ points, curve, labels = {}, title }) {
  const box = useRef(null);
  useEffect(() => {
    if (!box.current) return undefined;
    const pairs = points.x.map((x, i) => [Number(x), Number(points.y[i])]).sort((a, b) => a[0] - b[0]);
    const xs = pairs.map((p) => p[0]);
    const ys = pairs.map((p) => p[1]);
    const tables = [[xs, ys]];
    if (curve && xs.length) {
      const lo = Math.min(...xs);
      const hi = Math.max(...xs);
      const cx = Array.from({ length: 60 }, (_, i) => lo + ((hi - lo) * i) / 59);
      tables.push([cx, cx.map(curve)]);
    }
    const data = tables.length > 1 ? uPlot.join(tables) : [xs, ys];
    const plot = new uPlot(
      {
        width: box.current.clientWidth || 480,
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: labels.x || "x" }, { label: labels.y || "y", size: 60 }],
        series: [
          { label: labels.x || "x" },
          { label: "measured", stroke: "#5331ca", width: 0, points: { show: true, size: 7, fill: "#5331ca" }, paths: () => null },
          ...(tables.length > 1 ? [{ label: "curve", stroke: "#d62728", width: 2, spanGaps: true, points: { show: false } }] : []),
        ],
      },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [points, curve]);
  return (
    <figure class="chart">
      {title && <figcaption>{title}</figcaption>}
      <div ref={box} role="img" aria-label={title || "plot"} />
    </figure>
  );
}

/** y(x) of a polynomial with its highest power first (numpy's polyfit order). */
export function polynomial(coefficients) {
  return (x) => coefficients.reduce((acc, c) => acc * x + Number(c), 0);
}

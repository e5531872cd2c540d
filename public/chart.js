// The `series` of a stats answer as an inline SVG bar chart: one bar per bucket, oldest first.
// No library: a few rectangles. Labels are HTML beside the SVG, so they stay crisp and readable
// however the chart is stretched to the width of the screen.
import { el, number, svg } from "./dom.js";

const WIDTH = 600;
const HEIGHT = 160;

/**
 * A figure with the chart of `series` ([{start, events, weight}]), its peak and its time span.
 * `time` formats a bucket start for people; `bucketLabel` says what one bar is.
 */
export function seriesChart(series, { time, bucketLabel }) {
  const figure = el("figure", "chart");
  const peak = Math.max(0, ...series.map((p) => p.events));
  const first = series[0];
  const last = series.at(-1);
  const span = first ? `${time(first.start)} to ${time(last.start)}` : "no buckets";
  const summary = `Events per ${bucketLabel}, ${span}, peak ${number(peak)}`;

  const chart = svg("svg", {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": summary,
    "data-buckets": series.length,
  });
  chart.append(svg("line", { x1: 0, y1: HEIGHT - 0.5, x2: WIDTH, y2: HEIGHT - 0.5, class: "axis" }));
  const slot = series.length ? WIDTH / series.length : WIDTH;
  series.forEach((point, i) => {
    // A bucket with events never vanishes: at least one unit of height, so it can be seen.
    const h = peak === 0 ? 0 : Math.max(point.events > 0 ? 2 : 0, (point.events / peak) * (HEIGHT - 4));
    const bar = svg("rect", {
      x: (i * slot + slot * 0.1).toFixed(2),
      y: (HEIGHT - h).toFixed(2),
      width: Math.max(0.5, slot * 0.8).toFixed(2),
      height: h.toFixed(2),
      class: "bar",
      "data-events": point.events,
    });
    const tip = svg("title");
    tip.textContent = `${time(point.start)}: ${number(point.events)} events, weight ${number(point.weight)}`;
    bar.append(tip);
    chart.append(bar);
  });

  const axis = el("div", "chart-axis");
  axis.append(el("span", "", first ? time(first.start) : ""), el("span", "", last ? time(last.start) : ""));
  figure.append(el("span", "chart-peak", `peak ${number(peak)}`), chart, axis, el("figcaption", "", summary));
  return figure;
}

/**
 * Zone prices per interval as an SVG line chart, drawn without a chart library: one line per zone
 * over the committed intervals (x), price per kWh (y, from 0). Every point carries its values in
 * `data-interval` / `data-zone` / `data-price` and a `<title>` tooltip.
 */
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 92, right: 16, top: 14, bottom: 30 };
const COLOURS = ["#1f6feb", "#d97706", "#16a34a", "#db2777", "#7c3aed", "#0891b2"];

/** The clearing prices of one committed interval, indexed by zone id. */
export interface IntervalPrices {
  readonly intervalId: bigint;
  readonly zonePrices: readonly bigint[];
}

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attributes: Record<string, string | number>,
  text?: string,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Redraws `svg` with `intervals` (any order; drawn ascending by interval id). `format` renders a
 * price for labels; `highlightZone` draws that zone's line thicker.
 */
export function drawPriceChart(
  svg: SVGSVGElement,
  intervals: readonly IntervalPrices[],
  format: (price: bigint) => string,
  highlightZone?: number,
): void {
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${HEIGHT}`);
  svg.replaceChildren();
  const sorted = [...intervals].sort((a, b) => (a.intervalId < b.intervalId ? -1 : 1));
  if (sorted.length === 0) {
    svg.append(
      el("text", { x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" }, "No committed schedule yet"),
    );
    return;
  }
  const zones = Math.max(...sorted.map((i) => i.zonePrices.length));
  const maxPrice = sorted.reduce((m, i) => i.zonePrices.reduce((n, p) => (p > n ? p : n), m), 0n);
  const top = maxPrice === 0n ? 1n : maxPrice;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (index: number) =>
    PAD.left + (sorted.length === 1 ? plotW / 2 : (index * plotW) / (sorted.length - 1));
  // Prices are integers that may exceed 2^53; the ratio to the maximum is taken in parts per million.
  const y = (price: bigint) => PAD.top + plotH - (Number((price * 1_000_000n) / top) / 1_000_000) * plotH;

  svg.append(
    el("line", { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: PAD.top + plotH, class: "axis" }),
    el("line", {
      x1: PAD.left,
      y1: PAD.top + plotH,
      x2: WIDTH - PAD.right,
      y2: PAD.top + plotH,
      class: "axis",
    }),
    el("text", { x: PAD.left - 6, y: y(top) + 4, "text-anchor": "end", class: "tick" }, format(top)),
    el("text", { x: PAD.left - 6, y: y(0n) + 4, "text-anchor": "end", class: "tick" }, format(0n)),
    el(
      "text",
      { x: x(0), y: HEIGHT - 8, "text-anchor": "middle", class: "tick" },
      String(sorted[0]!.intervalId),
    ),
  );
  if (sorted.length > 1)
    svg.append(
      el(
        "text",
        { x: x(sorted.length - 1), y: HEIGHT - 8, "text-anchor": "middle", class: "tick" },
        String(sorted.at(-1)!.intervalId),
      ),
    );

  for (let zone = 0; zone < zones; zone++) {
    const colour = COLOURS[zone % COLOURS.length]!;
    const points = sorted.flatMap((interval, index) => {
      const price = interval.zonePrices[zone];
      return price === undefined
        ? []
        : [{ interval: interval.intervalId, price, cx: x(index), cy: y(price) }];
    });
    const group = el("g", { class: "zone-series", "data-zone": zone });
    group.append(
      el("polyline", {
        points: points.map((p) => `${p.cx},${p.cy}`).join(" "),
        fill: "none",
        stroke: colour,
        "stroke-width": zone === highlightZone ? 3 : 1.5,
      }),
    );
    for (const p of points) {
      const dot = el("circle", {
        cx: p.cx,
        cy: p.cy,
        r: 4,
        fill: colour,
        class: "price-point",
        "data-interval": String(p.interval),
        "data-zone": zone,
        "data-price": p.price.toString(),
      });
      dot.append(el("title", {}, `interval ${p.interval}, zone ${zone}: ${format(p.price)} per kWh`));
      group.append(dot);
    }
    group.append(
      el(
        "text",
        {
          x: WIDTH - PAD.right - 4,
          y: PAD.top + 12 + zone * 14,
          "text-anchor": "end",
          fill: colour,
          class: "legend",
        },
        `zone ${zone}${zone === highlightZone ? " (mine)" : ""}`,
      ),
    );
    svg.append(group);
  }
}

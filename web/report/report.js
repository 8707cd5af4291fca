// The run report's script (inlined into report.html by `duel report`, after
// uPlot): reads the JSON blob #report-data and builds the charts, the
// latest-value cards, the sample-grid slider and the auto-reload switch.
// Everything it needs is in the page; it makes no request.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const page = data.page, series = data.series;
  const palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(3);
    return Number(v.toPrecision(4)).toString();
  }

  // --- latest values ---
  const cards = document.getElementById("latest");
  function card(label, value, title) {
    const d = document.createElement("div");
    d.className = "card";
    d.title = title;
    const l = document.createElement("div");
    l.className = "card-label";
    l.textContent = label;
    const v = document.createElement("div");
    v.className = "card-value";
    v.textContent = value;
    d.append(l, v);
    cards.append(d);
  }
  function lastFinite(a) {
    for (let i = a.length - 1; i >= 0; --i) if (a[i] !== null) return a[i];
    return null;
  }
  for (const c of series.charts) {
    const src = series[c.source];
    c.keys.forEach((k, i) => {
      const v = lastFinite(src.values[k] || []);
      if (v !== null) card(c.labels[i], fmt(v), `${k}, last ${c.source === "eval" ? "evaluation" : "logged mean"}`);
    });
  }

  // --- charts ---
  // Steps are whole numbers: ticks at 1, 2, 5 x 10^k.
  const stepIncrs = [];
  for (let p = 1; p <= 1e9; p *= 10) stepIncrs.push(p, 2 * p, 5 * p);
  // Value ticks with as many decimals as their spacing needs (a curve that
  // moves in the 5th digit gets distinct labels).
  function tickLabels(u, splits, axisIdx, space, incr) {
    const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(incr || 1))));
    return splits.map((v) => {
      if (v === null || v === undefined) return "";
      const a = Math.abs(v);
      if (a >= 1e6 || (a !== 0 && a < 1e-4 && incr < 1e-4)) return v.toExponential(2);
      return v.toFixed(decimals);
    });
  }
  const charts = [];
  const holder = document.getElementById("charts");
  function chartWidth(el) {
    return Math.max(260, Math.floor(el.getBoundingClientRect().width) - 4);
  }
  for (const c of series.charts) {
    const src = series[c.source];
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.title = c.title;
    const h = document.createElement("h3");
    h.textContent = c.title;
    box.append(h);
    holder.append(box);
    if (src.step.length === 0) continue;
    const columns = [src.step];
    const uSeries = [{ label: "step", value: (u, v) => (v === null ? "–" : String(v)) }];
    c.keys.forEach((k, i) => {
      columns.push(src.values[k]);
      uSeries.push({
        label: c.labels[i],
        stroke: palette[i % palette.length],
        width: 1.5,
        points: { show: src.step.length <= 40, size: 5 },
        value: (u, v) => fmt(v),
      });
    });
    const opts = {
      width: chartWidth(box),
      height: 240,
      series: uSeries,
      scales: { x: { time: false } },
      axes: [{ label: "step", size: 36, incrs: stepIncrs }, { size: 64, values: tickLabels }],
      cursor: { sync: { key: "duel-steps" }, drag: { x: true, y: false } },
      legend: { live: true },
    };
    const u = new uPlot(opts, columns, box);
    charts.push({ title: c.title, plot: u, box: box, strokes: uSeries.slice(1).map((s) => s.stroke) });
  }
  if (series.charts.length === 0) {
    const p = document.createElement("p");
    p.className = "note";
    p.textContent = "nothing logged yet (train.log_every)";
    holder.append(p);
  }
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const c of charts) c.plot.setSize({ width: chartWidth(c.box), height: 240 });
    }, 100);
  });

  // --- sample grids ---
  const slider = document.getElementById("grid-slider");
  const image = document.getElementById("grid-image");
  const label = document.getElementById("grid-label");
  function showGrid(i) {
    const g = page.grids[i];
    image.src = g.src;
    image.dataset.step = String(g.step);
    label.textContent = (g.step >= 0 ? `step ${g.step}` : "final") + `  (${i + 1} of ${page.grids.length})`;
  }
  if (slider && page.grids.length > 0) {
    slider.addEventListener("input", () => showGrid(Number(slider.value)));
    showGrid(Number(slider.value));
  }

  // --- auto-reload while training (remembered in the address: #live) ---
  const auto = document.getElementById("auto-reload");
  if (auto) {
    auto.checked = location.hash === "#live";
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      if (auto.checked) timer = setTimeout(() => location.reload(), 30000);
    };
    auto.addEventListener("change", () => {
      history.replaceState(null, "", auto.checked ? "#live" : location.pathname + location.search);
      arm();
    });
    arm();
  }

  // For tests and the console: the built charts.
  window.duelReport = { charts: charts, grids: page.grids.length, run: page.run };
})();

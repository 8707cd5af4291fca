// Opens a run report (report.html) in headless chromium, as a user would,
// and checks that it rendered:
//   - no console error, no uncaught exception, no failed request, and no
//     resource fetched from anywhere but the page itself (data: URIs);
//   - every chart has a canvas on which each curve's colour was drawn;
//   - hovering a chart fills its legend with values, dragging zooms it;
//   - the sample grid, the interpolation GIF and grid decoded;
//   - the slider shows another grid when moved;
//   - the config and the evaluation tables are there.
// Writes a full-page screenshot and prints what it saw as JSON (stdout) for
// tests/cli/report.sh to compare with the run folder. Exit 1 on any failure.
//
//   node tests/report/check_report.mjs RUN/report.html SCREENSHOT.png
import { openPage } from "../../web/browser.mjs";
import path from "node:path";

const [reportPath, screenshot] = process.argv.slice(2);
if (!reportPath || !screenshot) {
  console.error("usage: check_report.mjs REPORT.html SCREENSHOT.png");
  process.exit(2);
}
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };

const url = "file://" + path.resolve(reportPath);
const opened = await openPage(url, {
  waitFor: async (p) => {
    await p.waitForFunction(() => window.duelReport !== undefined);  // up to openPage's ceiling (120 s)
    await p.evaluate(async () => {
      for (const img of document.images) await img.decode().catch(() => {});
    });
  },
  screenshot,
}).catch((e) => {
  console.log(JSON.stringify({ failures: [`the page did not finish loading: ${e.message}`] }));
  process.exit(1);
});
const { page, errors, close } = opened;

let seen = {};
try {
  // Curves: on each chart's canvas, count pixels of each series' stroke colour.
  seen.charts = await page.evaluate(() => {
    const hex = (s) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));
    return window.duelReport.charts.map((c) => {
      const canvas = c.plot.ctx.canvas;
      const px = c.plot.ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const counts = c.strokes.map((stroke) => {
        const [r, g, b] = hex(stroke);
        let n = 0;
        for (let i = 0; i < px.length; i += 4)
          if (px[i + 3] > 200 && Math.abs(px[i] - r) < 24 && Math.abs(px[i + 1] - g) < 24 && Math.abs(px[i + 2] - b) < 24) ++n;
        return n;
      });
      const painted = (() => { let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ++n; return n; })();
      return { title: c.title, width: canvas.width, height: canvas.height, series: c.plot.series.slice(1).map((s) => s.label),
               points: c.plot.data[0].length, strokePixels: counts, painted };
    });
  });
  for (const c of seen.charts) {
    check(c.width > 200 && c.height > 100, `chart ${c.title}: canvas ${c.width}x${c.height}`);
    c.strokePixels.forEach((n, i) =>
      check(c.points < 2 || n >= 20, `chart ${c.title}: curve ${c.series[i]} drew ${n} pixels of its colour`));
  }
  const chartBoxes = await page.$$eval("#charts .chart", (els) => els.map((e) => e.dataset.title));
  check(chartBoxes.length === seen.charts.length, `chart boxes ${chartBoxes} vs drawn charts ${seen.charts.length}`);

  // Hover: the legend of the first chart shows numbers under the cursor.
  const over = await page.$("#charts .chart .u-over");
  check(over !== null, "no chart overlay to hover");
  if (over) {
    await over.scrollIntoView();
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    seen.hover = await page.$$eval("#charts .chart:first-of-type .u-legend .u-value", (els) => els.map((e) => e.textContent));
    check(seen.hover.length >= 2 && seen.hover.slice(1).some((t) => /\d/.test(t)),
          `hover legend shows no values: ${JSON.stringify(seen.hover)}`);
    // Drag across the middle of the chart: the x range narrows (zoom).
    const before = await page.evaluate(() => { const s = window.duelReport.charts[0].plot.scales.x; return [s.min, s.max]; });
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const after = await page.evaluate(() => { const s = window.duelReport.charts[0].plot.scales.x; return [s.min, s.max]; });
    seen.zoom = { before, after };
    check(after[1] - after[0] < 0.9 * (before[1] - before[0]), `drag did not zoom: ${JSON.stringify(seen.zoom)}`);
  }

  // Images.
  seen.images = await page.$$eval("img", (els) => els.map((e) => ({ id: e.id, complete: e.complete, w: e.naturalWidth, h: e.naturalHeight })));
  for (const id of ["grid-image", "interp-gif", "interp-grid"]) {
    const im = seen.images.find((i) => i.id === id);
    check(im && im.complete && im.w > 0 && im.h > 0, `image #${id} did not decode: ${JSON.stringify(im)}`);
  }

  // The slider: the last grid first, then the first one when moved to 0.
  seen.slider = await page.evaluate(async () => {
    const s = document.getElementById("grid-slider"), img = document.getElementById("grid-image");
    const label = document.getElementById("grid-label");
    const first = { value: s.value, max: s.max, step: img.dataset.step, label: label.textContent, src: img.src.length };
    s.value = "0";
    s.dispatchEvent(new Event("input", { bubbles: true }));
    await img.decode();
    const moved = { value: s.value, step: img.dataset.step, label: label.textContent, w: img.naturalWidth };
    return { first, moved };
  });
  check(seen.slider.first.step !== seen.slider.moved.step, `slider did not change the grid: ${JSON.stringify(seen.slider)}`);
  check(seen.slider.moved.w > 0, "the grid shown after moving the slider did not decode");

  // Tables and config.
  seen.config = await page.$eval("#config-text", (e) => e.textContent);
  seen.evalRows = await page.$$eval("table.eval tr[data-metric]", (rows) =>
    rows.map((r) => [r.dataset.metric, ...[...r.querySelectorAll("td")].slice(1).map((td) => td.textContent)]));
  seen.periodic = await page.$$eval("#periodic-eval tbody tr", (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  seen.cards = await page.$$eval("#latest .card", (cs) => cs.map((c) => [c.querySelector(".card-label").textContent, c.querySelector(".card-value").textContent]));
  seen.run = await page.evaluate(() => window.duelReport.run);
  // Nothing but the page itself was loaded.
  seen.resources = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name.slice(0, 40)));
  check(seen.resources.every((n) => n.startsWith("data:")), `the page fetched ${JSON.stringify(seen.resources)}`);
} catch (e) {
  failures.push(`exception while checking: ${e.stack || e}`);
} finally {
  await close();
}
for (const e of errors) failures.push(`browser: ${e}`);
seen.failures = failures;
console.log(JSON.stringify(seen));
process.exit(failures.length ? 1 : 0);

// Opens a page in Debian's headless chromium through puppeteer-core and
// reports what a user would see: console errors, uncaught exceptions, failed
// requests, and (optionally) a full-page screenshot. Shared by the browser
// tests of run reports and exported web pages.
//
//   import { openPage } from "./browser.mjs";
//   const { page, errors, close } = await openPage(url, { screenshot: "s.png" });
import puppeteer from "puppeteer-core";
import fs from "node:fs";

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    if (p && fs.existsSync(p)) return p;
  }
  throw new Error("chromium not found: install Debian's chromium (scripts/install-deps.sh) or set CHROMIUM");
}

// Every wait (page load, waitFor, protocol calls) waits for an event up to
// timeoutMs, a ceiling generous enough for a loaded machine (two ctest jobs
// on two cores); it is not a time budget.
// waitFor: an async function (page) => void run before the screenshot, e.g.
// waiting for a selector. beforeLoad: an async function (page) => void run
// before the page loads (e.g. to handle dialogs). Errors collected up to
// close() are in `errors`.
export async function openPage(url, { screenshot, width = 1280, height = 900, waitFor, beforeLoad, timeoutMs = 120000 } = {}) {
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--allow-file-access-from-files"],
    timeout: timeoutMs,  // chromium's start (puppeteer's default: 30 s)
    protocolTimeout: timeoutMs,
  });
  const errors = [];
  const page = await browser.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => errors.push(`exception: ${e.message}`));
  page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  await page.setViewport({ width, height });
  if (beforeLoad) await beforeLoad(page);
  await page.goto(url, { waitUntil: "load" });
  if (waitFor) await waitFor(page);
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  return { page, errors, close: () => browser.close() };
}

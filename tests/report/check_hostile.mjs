// Opens a page duel wrote (report.html or an exported web page) in headless
// chromium and checks that strings from the user's files stayed text:
//   node check_hostile.mjs URL EXPECT.json
// EXPECT.json: {"visible": [strings the page must show as text]}. Every
// payload of the test sets window.__pwned or opens a dialog when it runs, so
// the page fails if any did; it also fails on elements the payloads would
// create (an <img src=x>, an <svg> or any element with an onerror/onload
// attribute). Prints what it saw as JSON; exit 1 on any finding.
import fs from "node:fs";
import { openPage } from "../../web/browser.mjs";

const [url, expectPath] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectPath, "utf8"));
const dialogs = [];
const { page, close } = await openPage(url, {
  beforeLoad: async (p) => p.on("dialog", async (d) => { dialogs.push(d.message()); await d.dismiss(); }),
  waitFor: async () => new Promise((r) => setTimeout(r, 1500)),  // let injected onerror/onload handlers fire
});
const seen = await page.evaluate((visible) => ({
  pwned: window.__pwned ?? null,
  injected: [...document.querySelectorAll('img[src="x"], img[src="y"], svg[onload], [onerror], [onload]')]
    .map((e) => e.outerHTML.slice(0, 120)),
  title: document.title,
  missing: visible.filter((s) => !document.body.innerText.includes(s) && !document.title.includes(s)),
}), expect.visible);
seen.dialogs = dialogs;
await close();
console.log(JSON.stringify(seen, null, 1));
const bad = seen.pwned !== null || seen.injected.length > 0 || dialogs.length > 0 || seen.missing.length > 0;
process.exit(bad ? 1 : 0);

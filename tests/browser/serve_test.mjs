// Drives headless Chromium through the `videoprism serve` page:
//   node serve_test.mjs URL QUERY EXPECTED_JSON SCREENSHOT
// EXPECTED_JSON is `videoprism search --json` for QUERY. Opens the page, types
// the query, checks the grid's first hit is the CLI's first hit, clicks it,
// checks the <video> plays from the window's start, and (when the first hit
// starts at 0) does the same for the best hit that starts later; screenshot.
import fs from "node:fs";
import path from "node:path";
import puppeteer from "puppeteer-core";

const [url, query, expectedPath, screenshot] = process.argv.slice(2);
const expected = JSON.parse(fs.readFileSync(expectedPath, "utf8"));
const fail = (message) => { console.error("FAIL: " + message); process.exitCode = 1; throw new Error(message); };

const browser = await puppeteer.launch({
  executablePath: process.env.CHROME || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--disable-gpu",
         "--disable-dev-shm-usage", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on("pageerror", (e) => console.error("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") console.error("console: " + m.text()); });

  // 1. open the page
  await page.goto(url, { waitUntil: "networkidle0", timeout: 60000 });
  // 2. type a query
  await page.type("#q", query);
  await page.keyboard.press("Enter");
  // 3. the grid, with the expected first hit
  await page.waitForSelector("#grid .card", { timeout: 60000 });
  const cards = await page.$$eval("#grid .card", (els) =>
    els.map((e) => ({ name: e.dataset.name, start: Number(e.dataset.start), id: e.dataset.windowId })));
  const want = { name: path.basename(expected[0].path), start: expected[0].start_s };
  console.log(`grid: ${cards.length} hits, first ${cards[0].name} @ ${cards[0].start}s (expected ${want.name} @ ${want.start}s)`);
  if (cards.length !== expected.length) fail(`grid has ${cards.length} hits, the CLI ${expected.length}`);
  if (cards[0].name !== want.name || Math.abs(cards[0].start - want.start) > 1e-6)
    fail(`first hit ${cards[0].name} @ ${cards[0].start}, expected ${want.name} @ ${want.start}`);
  await page.waitForFunction(() => [...document.querySelectorAll("#grid img")].slice(0, 8)
    .every((i) => i.complete && i.naturalWidth > 0), { timeout: 120000 });

  // 4.-5. click a hit; the <video> plays at or past the window's start
  const playFrom = async (index) => {
    const card = cards[index];
    await page.click(`#grid .card:nth-child(${index + 1})`);
    await page.waitForFunction((start) => {
      const v = document.querySelector("#player");
      return v && v.readyState >= 2 && !v.paused && v.currentTime >= start - 1e-3 && v.played.length > 0;
    }, { timeout: 120000 }, card.start);
    const t1 = await page.$eval("#player", (v) => v.currentTime);
    await new Promise((r) => setTimeout(r, 500));
    const state = await page.$eval("#player", (v) => ({ t: v.currentTime, ended: v.ended, source: v.dataset.source,
                                                       error: v.error && v.error.code }));
    console.log(`played ${card.name} @ ${card.start}s from the ${state.source}: currentTime ${t1.toFixed(3)} -> ${state.t.toFixed(3)}`);
    if (state.error) fail(`video error ${state.error}`);
    if (!(state.t > t1 || state.ended)) fail(`the video does not advance (${t1} -> ${state.t})`);
    if (t1 < card.start - 1e-3) fail(`currentTime ${t1} before the window start ${card.start}`);
    return state;
  };
  await playFrom(0);
  if (cards[0].start === 0) {
    const later = cards.findIndex((c) => c.start > 0);
    if (later < 0) fail("no hit starts after 0 s");
    await playFrom(later);
  }
  // A directly playable file (the .mp4) plays from the file itself.
  const mp4 = cards.findIndex((c) => c.name.endsWith(".mp4") && c.start > 0);
  if (mp4 >= 0) {
    const s = await playFrom(mp4);
    if (s.source !== "media") fail(`the .mp4 played from the ${s.source}, expected the file itself`);
  }
  await page.evaluate(() => { document.querySelector("#player").pause(); });
  // 6. screenshot
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log("screenshot: " + screenshot);
} finally {
  await browser.close();
}

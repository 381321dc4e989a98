// Checks every journey repeats.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';

/** The page hydrated (its WebAssembly took over) and nothing panicked. */
export async function assertLive(page, consoleErrors) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 10000 });
  assert.deepEqual(consoleErrors.filter((e) => /panicked|hydration/i.test(e)), []);
}

/** Saves a screenshot under test-results/ for people to look at. */
export async function screenshot(page, name) {
  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

// Checks every journey repeats.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';

// axe-core ships one self-contained script; it is read once and evaluated in each page
// through the DevTools protocol, which the page's Content-Security-Policy does not
// govern (a <script> tag would be refused by it, as it should be).
const axeSource = createRequire(import.meta.url)('axe-core').source;

/**
 * The page hydrated (its WebAssembly took over under the page's Content-Security-Policy),
 * nothing panicked and the browser reported no violation of that policy.
 */
export async function assertLive(page, consoleErrors) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 10000 });
  assert.deepEqual(consoleErrors.filter((e) => /panicked|hydration|Content Security Policy/i.test(e)), []);
}

/** Saves a screenshot under test-results/ for people to look at. */
export async function screenshot(page, name) {
  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: `test-results/${name}.png`, fullPage: true });
}

/**
 * Runs axe on the page as it is now and fails on every serious or critical violation,
 * naming the rule and the elements so the fix can start from the message. Returns the
 * milder violations, which do not fail, so a spec can still mention them.
 */
export async function expectAccessible(page, name) {
  await screenshot(page, name);
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      // The first check's message says why, e.g. the measured contrast and colours.
      targets: v.nodes.map((n) => {
        const why = [...n.any, ...n.all, ...n.none][0]?.message;
        return why ? `${n.target.join(' ')} — ${why}` : n.target.join(' ');
      }),
    }));
  });
  const describe = (v) => `  [${v.impact}] ${v.id}: ${v.help}\n${v.targets.map((t) => `      ${t}`).join('\n')}`;
  const blocking = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.ok(blocking.length === 0,
    `${name}: ${blocking.length} serious or critical accessibility violation(s) at ${page.url()}\n${blocking.map(describe).join('\n')}`);
  return violations.map(describe);
}

/** Nothing makes the whole page scroll sideways (WCAG reflow), which axe cannot see. */
export async function expectReflow(page, name) {
  const wide = await page.evaluate(() => {
    const limit = document.documentElement.clientWidth + 1;
    const right = (e) => e.getBoundingClientRect().right;
    const label = (e) => e.tagName.toLowerCase() + [...e.classList].map((c) => `.${c}`).join('');
    const path = (e) => {
      const parts = [];
      for (let n = e; n && n !== document.body && parts.length < 4; n = n.parentElement) parts.unshift(label(n));
      return parts.join(' > ');
    };
    // Content that scrolls inside a box that fits (a wide table) does not widen the page.
    const scrolls = (e) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
    const insideScroller = (e) => {
      for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) if (scrolls(n)) return true;
      return false;
    };
    // Only the outermost element that sticks out: its children only follow it.
    return [...document.body.querySelectorAll('*')]
      .filter((e) => right(e) > limit && right(e.parentElement) <= limit && !insideScroller(e))
      .map((e) => `${path(e)} reaches ${Math.round(right(e))}px`);
  });
  assert.deepEqual(wide, [], `${name}: wider than the ${page.viewportSize().width}px window at ${page.url()}`);
}

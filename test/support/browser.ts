import fs from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, chromium, type Page } from 'playwright-core';

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

/** Debian's Chromium (CI installs it), headless, never a browser download; without the calls home it would make. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
  });
}

/** axe-core's violations on the page (WCAG 2.1 A and AA, and best practices), as "rule: element" lines. */
export async function violations(page: Page): Promise<string[]> {
  // Evaluated through the debugging protocol: the pages' CSP does not apply to it.
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate(() =>
    (globalThis as unknown as { axe: { run(): Promise<unknown> } }).axe.run(),
  )) as AxeResult;
  return result.violations.flatMap((violation) =>
    violation.nodes.map(
      (node) => `${violation.id} [${violation.impact}] (${violation.help}): ${node.target.join(' ')}`,
    ),
  );
}

/** The text of the element that has the keyboard focus. */
export function focusedText(page: Page): Promise<string | null> {
  return page.locator('*:focus').textContent();
}

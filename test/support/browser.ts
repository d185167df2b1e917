// Headless Debian chromium for the dashboard tests, driven by playwright-core (which downloads
// no browser of its own). Where chromium is missing the tests skip, and say so loudly.
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env['CFX_MINER_CHROMIUM'] ?? '/usr/bin/chromium';

/** Flags for a closed network and a root user: no sandbox, no GPU, no background traffic. */
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

/** undefined when chromium is there; else the reason to give node:test's skip (also printed). */
export function chromiumSkipReason(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const reason = `SKIPPED: no chromium at ${CHROMIUM_PATH}; install Debian's chromium ` +
    '(apt-get install chromium) or set CFX_MINER_CHROMIUM to run the dashboard browser tests';
  console.log(`# ${reason}`);
  process.stderr.write(`\n*** ${reason} ***\n\n`);
  return reason;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // Playwright gives every launch a fresh, empty profile directory of its own.
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: FLAGS });
}

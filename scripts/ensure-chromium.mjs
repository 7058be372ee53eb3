#!/usr/bin/env node
// Makes sure a Chromium for the e2e tests exists. CHROMIUM_PATH overrides the default
// /usr/bin/chromium. When it is missing and we are root, install Debian's package with apt-get;
// otherwise explain how to install it. Playwright cannot download its own browsers here.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

if (existsSync(chromiumPath)) process.exit(0);

if (process.env.CHROMIUM_PATH) {
  console.error(`CHROMIUM_PATH=${chromiumPath} does not exist. Point it at a Chromium or Chrome binary with WebGPU.`);
  process.exit(1);
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot) {
  console.error(
    `Chromium not found at ${chromiumPath}. Install it (Debian/Ubuntu: sudo apt-get install -y chromium)\n` +
      'or set CHROMIUM_PATH to a Chromium/Chrome binary, then run the tests again.',
  );
  process.exit(1);
}

console.error(`Chromium not found at ${chromiumPath}: installing Debian's chromium with apt-get…`);
try {
  execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium', {
    stdio: 'inherit',
  });
} catch {
  console.error(
    'apt-get could not install chromium. Install it by hand (apt-get install -y chromium) or set CHROMIUM_PATH.',
  );
  process.exit(1);
}
if (!existsSync(chromiumPath)) {
  console.error(`apt-get finished but ${chromiumPath} is still missing. Set CHROMIUM_PATH to the installed binary.`);
  process.exit(1);
}

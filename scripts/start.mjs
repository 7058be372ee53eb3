#!/usr/bin/env node
// `npm start`: works on a fresh clone. Installs dependencies when missing, builds the studio,
// serves it on http://localhost:5173 (or the next free port) and prints the URL.
import { existsSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** First port tried; the studio's documented address. */
const PREFERRED_PORT = 5173;
/** How many ports after it to try before giving up. */
const PORT_ATTEMPTS = 50;

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) {
    console.error(`\n${command} ${args.join(' ')} failed (exit ${result.status}).`);
    process.exit(result.status ?? 1);
  }
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.once('listening', () => server.close(() => resolve(true)));
    server.listen(port, 'localhost');
  });
}

if (!existsSync('node_modules/.bin/vite')) {
  console.log('Installing dependencies (first run)…');
  run('npm', existsSync('package-lock.json') ? ['ci'] : ['install']);
}

console.log('Building the studio…');
run('npx', ['vite', 'build', '--logLevel', 'warn']);

let port = PREFERRED_PORT;
while (!(await portIsFree(port))) {
  port += 1;
  if (port >= PREFERRED_PORT + PORT_ATTEMPTS) {
    console.error(`No free port between ${PREFERRED_PORT} and ${port}. Free one and retry.`);
    process.exit(1);
  }
}

const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--logLevel', 'warn'], {
  stdio: 'inherit',
});
// Give the server a moment to bind before announcing the address.
setTimeout(() => console.log(`\nFewShot Studio is running at http://localhost:${port}/  (Ctrl+C to stop)\n`), 800);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill(signal));
server.on('exit', (code) => process.exit(code ?? 0));

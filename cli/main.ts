#!/usr/bin/env node
// The `softmode` command. Each subcommand lives in cli/commands/<name>.ts and exports
// `run(argv: string[]): Promise<number>` (the exit code) and `summary: string`.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SoftmodeInputError } from '../core/errors.js';

const here = dirname(fileURLToPath(import.meta.url));

// `softmode status | head`: the reader closes the pipe and every later write fails with EPIPE.
// That is no error of ours: from then on output is dropped (the command still finishes and
// stops what it started) and nothing is printed about it.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stream.write = (() => true) as typeof stream.write;
  });
}

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

function commandNames(): string[] {
  return readdirSync(join(here, 'commands'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function load(name: string): Promise<Command> {
  return (await import(`./commands/${name}.js`)) as Command;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = commandNames();
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log('usage: softmode <command> [options]\n\ncommands:');
    for (const n of names) console.log(`  ${n.padEnd(14)} ${(await load(n)).summary}`);
    return name ? 0 : 2;
  }
  if (!names.includes(name)) {
    console.error(`softmode: unknown command '${name}' (try: softmode --help)`);
    return 2;
  }
  return (await load(name)).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e instanceof Error ? `softmode: ${e.message}` : e);
    // a bad argument or a directory that is not a campaign directory: the user's (exit 2)
    process.exitCode = e instanceof SoftmodeInputError ? 2 : 1;
  },
);
